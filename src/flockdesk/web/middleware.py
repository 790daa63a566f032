"""Pure ASGI middleware that guards every request before routing: the request body cap and the last-resort
500 page (logged, and inside the security-header middleware so the page carries the headers)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)


def _too_large_message(limit: int) -> str:
    return (
        f"Request body too large: the limit is {limit} bytes. Send less, or raise the "
        "max_request_body_bytes setting (FLOCKDESK_MAX_REQUEST_BODY_BYTES)."
    )


class RequestBodyTooLarge(HTTPException):
    """Raised from `receive` once a streamed body passes the limit. An HTTPException, so that FastAPI's
    body parsing lets it through as a 413 instead of turning it into "error parsing the body"."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=_too_large_message(limit), headers={"Connection": "close"})


class BodySizeLimitMiddleware:
    """Refuses request bodies over `max_bytes` with 413 before anything parses them: at once when the
    Content-Length says so, else while the body streams in (chunked uploads), so at most `max_bytes`
    plus one chunk is ever held."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.strip().isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise RequestBodyTooLarge(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except RequestBodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Connection: close, so the server drops the rest of the body instead of waiting for it.
        response = JSONResponse(
            {"detail": _too_large_message(self.max_bytes)}, status_code=413, headers={"Connection": "close"}
        )
        await response(scope, receive, send)


class UnhandledErrorMiddleware:
    """Turns an exception no handler took into a 500 page from `render` and logs its stack trace.

    Starlette's own ServerErrorMiddleware sits outside every added middleware, so its plain-text 500
    would miss the security headers; this one is added inside SecurityHeadersMiddleware."""

    def __init__(self, app: ASGIApp, render: Callable[[Request], Response]) -> None:
        self.app = app
        self.render = render

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except RequestBodyTooLarge:
            raise
        except Exception:
            if started:
                raise  # too late for an error page; the server logs it and drops the connection
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            try:
                response = self.render(Request(scope, receive))
            except Exception:
                log.exception("the error page itself failed")
                response = PlainTextResponse("Internal server error.", status_code=500)
            await response(scope, receive, send)
