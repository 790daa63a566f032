"""Response helpers: JSON via orjson, RFC 7807 problems with X's problem types."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

PROBLEM_BASE = "https://api.twitter.com/2/problems/"


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)


def problem_body(
    status: int, title: str, detail: str, kind: str | None = None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": title,
        "type": PROBLEM_BASE + kind if kind else "about:blank",
        "status": status,
        "detail": detail,
    }
    body.update(extra)
    return body


def problem(
    status: int,
    title: str,
    detail: str,
    kind: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    return Response(
        orjson.dumps(problem_body(status, title, detail, kind, **extra)),
        status_code=status,
        media_type="application/problem+json",
        headers=headers,
    )


def invalid_request(parameter: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return problem(
        400,
        "Invalid Request",
        "One or more parameters to your request was invalid.",
        "invalid-request",
        headers=headers,
        errors=[{"parameters": {parameter: [message]}, "message": message}],
    )


class ApiError(Exception):
    """Raised inside a handler to answer with a problem."""

    def __init__(self, status: int, title: str, detail: str, kind: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.kind, self.extra = status, title, detail, kind, extra

    def response(self, headers: dict[str, str] | None = None) -> Response:
        return problem(self.status, self.title, self.detail, self.kind, headers=headers, **self.extra)
