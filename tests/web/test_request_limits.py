"""Request bodies are capped before anything parses them (max_request_body_bytes, 1 MB by default)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

from fastapi.testclient import TestClient

from flockdesk.settings import Settings
from flockdesk.web.app import create_app

from .conftest import SQLITE_ONLY, Browser

CHUNK = 64 * 1024
TWO_MB = 2 * 1024 * 1024


class Body:
    """A 2 MB request body streamed in 64 KB chunks (chunked transfer), counting what the server pulled."""

    def __init__(self, total: int = TWO_MB) -> None:
        self.total = total
        self.pulled = 0

    def __iter__(self) -> Iterator[bytes]:
        while self.pulled < self.total:
            self.pulled += CHUNK
            yield b"x" * CHUNK


def _assert_refused(resp) -> None:  # type: ignore[no-untyped-def]
    assert resp.status_code == 413
    assert "max_request_body_bytes" in resp.text
    assert "content-security-policy" in resp.headers


def test_default_limit_is_one_megabyte() -> None:
    assert Settings().max_request_body_bytes == 1_048_576


@SQLITE_ONLY
def test_oversized_content_length_is_refused_before_reading_or_auth(client: TestClient) -> None:
    body = Body()
    resp = client.post(
        "/api/v1/check-reply",
        content=iter(body),
        headers={"Content-Type": "application/json", "Content-Length": str(TWO_MB)},
    )
    _assert_refused(resp)
    assert body.pulled == 0  # refused on the header alone: not one byte was read
    page = Body()
    resp = client.post(
        "/login",
        content=iter(page),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Content-Length": str(TWO_MB)},
    )
    _assert_refused(resp)
    assert page.pulled == 0


def _post_streamed(app, path: str, body: Body, headers: dict[str, str]) -> tuple[int, dict[str, str], str]:  # type: ignore[no-untyped-def]
    """POST a chunked body straight through ASGI, one chunk per receive() (the TestClient would read
    the whole body first), as a server does for `Transfer-Encoding: chunked`."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 40000),
        "server": ("testserver", 80),
    }
    chunks = iter(body)
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        chunk = next(chunks, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = sent[0]
    resp_headers = {k.decode(): v.decode() for k, v in start["headers"]}  # type: ignore[attr-defined]
    text = b"".join(m.get("body", b"") for m in sent[1:]).decode()  # type: ignore[misc]
    return start["status"], resp_headers, text  # type: ignore[return-value]


@SQLITE_ONLY
def test_streamed_body_is_cut_off_once_over_the_limit(app, agent: Browser) -> None:  # type: ignore[no-untyped-def]
    most = 1_048_576 + CHUNK  # the limit plus the chunk that crossed it
    cases = [
        ("/api/v1/check-reply", {"content-type": "application/json"}),  # anonymous: body read before auth
        (
            "/api/v1/check-reply",
            {
                "content-type": "application/json",
                "x-csrf-token": agent.csrf,
                "cookie": "; ".join(f"{k}={v}" for k, v in agent.client.cookies.items()),
            },
        ),
        ("/login", {"content-type": "application/x-www-form-urlencoded"}),
    ]
    for path, headers in cases:
        body = Body()
        status, resp_headers, text = _post_streamed(app, path, body, headers)
        assert status == 413 and "max_request_body_bytes" in text, (path, status, text[:200])
        assert "content-security-policy" in resp_headers
        assert body.pulled <= most, path
    ok = agent.post_json("/api/v1/check-reply", {"text": "Thanks, we are on it"})
    assert ok.status_code == 200


@SQLITE_ONLY
def test_limit_is_a_setting(settings: Settings, engine, agent: Browser) -> None:  # type: ignore[no-untyped-def]
    small = create_app(
        settings.model_copy(update={"max_request_body_bytes": 200}), engine, housekeeping=False
    )
    with TestClient(small) as c:
        c.cookies.update(agent.client.cookies)
        headers = {"X-CSRF-Token": agent.csrf}
        assert c.post("/api/v1/check-reply", json={"text": "short"}, headers=headers).status_code == 200
        resp = c.post("/api/v1/check-reply", json={"text": "y" * 300}, headers=headers)
    assert resp.status_code == 413 and "200 bytes" in resp.text
