"""Every error response, unhandled 500s included, is a real page (or JSON) with the security headers;
forged page cursors are a 400 that says what to do."""

from __future__ import annotations

import base64
import json
import logging

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.routing import Mount

from .conftest import SQLITE_ONLY, Browser
from .seed import thread

HEADERS = (
    "content-security-policy",
    "x-content-type-options",
    "x-frame-options",
    "referrer-policy",
)


def _assert_secured(resp) -> None:  # type: ignore[no-untyped-def]
    for name in HEADERS:
        assert name in resp.headers, (name, resp.status_code)
    assert resp.headers["cache-control"] == "no-store"


def _cursor(data: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


FORGED = [
    "garbage",
    "%00%ff",
    _cursor({"s": "priority", "k": []}),
    _cursor({"s": "priority", "k": None}),
    _cursor({"s": "priority", "k": ["x", 1]}),
    _cursor({"s": "priority", "k": [1.0, 10**30]}),
    _cursor({"s": "priority"}),
    _cursor({"s": "waiting", "p": 0, "k": [5, 1]}),
    _cursor({"s": "waiting", "p": 0, "k": ["not a time", 1]}),
    _cursor({"s": "waiting", "p": "x"}),
    _cursor({"s": "waiting", "p": 1, "k": [-1]}),
    _cursor({"s": "search", "k": "x"}),
    _cursor({"s": "search"}),
    _cursor(["not", "an", "object"]),
    base64.urlsafe_b64encode(b"[" * 5000).decode(),
]
LISTINGS = [
    "/?cursor={}",
    "/inbox/all/rows?cursor={}",
    "/inbox/mine?sort=waiting&cursor={}",
    "/inbox/all/rows?sort=waiting&cursor={}",
    "/search?q=order&cursor={}",
    "/api/v1/conversations?cursor={}",
    "/api/v1/conversations?sort=waiting&cursor={}",
]


@SQLITE_ONLY
@pytest.mark.parametrize("cursor", FORGED)
def test_forged_cursor_is_a_400_with_headers(agent: Browser, cursor: str) -> None:
    for url in LISTINGS:
        resp = agent.client.get(url.format(cursor))
        assert resp.status_code == 400, (url, cursor, resp.status_code)
        assert "page cursor is not valid" in resp.text
        _assert_secured(resp)


def test_real_cursors_still_page(agent: Browser, engine) -> None:  # type: ignore[no-untyped-def]

    for i in range(3):
        thread(engine, text=f"@acmecare order {i} is late", username=f"cust{i}", name=f"Cust {i}")
    for sort in ("priority", "waiting"):
        first = agent.client.get(f"/api/v1/conversations?limit=2&sort={sort}").json()
        assert len(first["items"]) == 2 and first["next_cursor"]
        rest = agent.client.get(f"/api/v1/conversations?limit=2&sort={sort}&cursor={first['next_cursor']}")
        assert rest.status_code == 200 and len(rest.json()["items"]) == 1


def _boom() -> None:
    raise RuntimeError("kaboom in a route")


def _api(app: FastAPI) -> FastAPI:
    return next(r.app for r in app.routes if isinstance(r, Mount) and r.path == "/api/v1")  # type: ignore[return-value]


@SQLITE_ONLY
def test_unhandled_error_is_a_logged_500_page_with_headers(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    app.add_api_route("/boom", _boom)
    _api(app).add_api_route("/boom", _boom)
    with TestClient(app, raise_server_exceptions=False) as client, caplog.at_level(logging.ERROR):
        page = client.get("/boom", headers={"Accept": "text/html"})
        as_json = client.get("/boom", headers={"Accept": "application/json"})
        api = client.get("/api/v1/boom")
    assert page.status_code == 500 and "text/html" in page.headers["content-type"]
    assert "Something went wrong on our side" in page.text and "kaboom" not in page.text
    assert as_json.status_code == 500 and "logged" in as_json.json()["detail"]
    assert api.status_code == 500 and "logged" in api.json()["detail"] and "kaboom" not in api.text
    for resp in (page, as_json, api):
        _assert_secured(resp)
    traces = [r for r in caplog.records if r.exc_info and "kaboom in a route" in str(r.exc_info[1])]
    assert len(traces) == 3  # each once, with its stack trace
    assert "Traceback" in caplog.text and "_boom" in caplog.text


@SQLITE_ONLY
def test_not_found_pages_carry_headers(client: TestClient) -> None:
    html = client.get("/no/such/page", headers={"Accept": "text/html"})
    assert html.status_code == 404 and "There is no page at this address" in html.text
    plain = client.get("/no/such/page")
    assert plain.status_code == 404 and plain.json() == {"detail": "Not Found"}
    api = client.get("/api/v1/no/such/thing")
    assert api.status_code == 404
    for resp in (html, plain, api):
        _assert_secured(resp)
