"""Sign-in, sessions, CSRF, roles, throttling, security headers."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from flockdesk.services.team import users as users_svc

from .conftest import CSRF_RE, PASSWORD, SQLITE_ONLY, Browser
from .seed import thread


@SQLITE_ONLY
def test_unauthenticated_browser_request_redirects_to_login(client: TestClient, people) -> None:
    resp = client.get("/inbox/mine", follow_redirects=False)
    assert resp.status_code == 303
    assert resp.headers["location"].startswith("/login?next=%2Finbox%2Fmine")


@SQLITE_ONLY
def test_unauthenticated_api_request_gets_401_json(client: TestClient, people) -> None:
    resp = client.get("/api/v1/conversations")
    assert resp.status_code == 401
    assert "Bearer" in resp.json()["detail"]
    assert resp.headers["www-authenticate"] == "Bearer"


def test_login_sets_hardened_session_cookie_and_lands_on_inbox(client: TestClient, people) -> None:
    token = CSRF_RE.search(client.get("/login").text).group(1)
    resp = client.post(
        "/login",
        data={"username": "bob", "password": PASSWORD, "csrf_token": token, "next": "/inbox/mine"},
        follow_redirects=False,
    )
    assert resp.status_code == 303 and resp.headers["location"] == "/inbox/mine"
    cookie = [h for h in resp.headers.get_list("set-cookie") if h.startswith("fd_session=")][0].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    page = client.get("/inbox/mine")
    assert page.status_code == 200 and "Mine" in page.text and "bob" in page.text


@SQLITE_ONLY
def test_cookie_is_secure_when_request_is_https(app, people) -> None:
    with TestClient(app, base_url="https://testserver") as c:
        token = CSRF_RE.search(c.get("/login").text).group(1)
        resp = c.post(
            "/login",
            data={"username": "bob", "password": PASSWORD, "csrf_token": token},
            follow_redirects=False,
        )
        cookie = [h for h in resp.headers.get_list("set-cookie") if h.startswith("fd_session=")][0].lower()
        assert "secure" in cookie


@SQLITE_ONLY
def test_open_redirect_after_login_is_refused(client: TestClient, people) -> None:
    token = CSRF_RE.search(client.get("/login").text).group(1)
    resp = client.post(
        "/login",
        data={"username": "bob", "password": PASSWORD, "csrf_token": token, "next": "//evil.example/x"},
        follow_redirects=False,
    )
    assert resp.headers["location"] == "/"


@SQLITE_ONLY
def test_wrong_password_is_401_with_clear_message(client: TestClient, people) -> None:
    token = CSRF_RE.search(client.get("/login").text).group(1)
    resp = client.post("/login", data={"username": "bob", "password": "nope-nope", "csrf_token": token})
    assert resp.status_code == 401
    assert "Wrong username or password" in resp.text


@SQLITE_ONLY
def test_login_without_csrf_token_is_403(client: TestClient, people) -> None:
    client.get("/login")
    resp = client.post("/login", data={"username": "bob", "password": PASSWORD})
    assert resp.status_code == 403


def test_throttling_after_five_failures_even_with_right_password(client: TestClient, people) -> None:
    token = CSRF_RE.search(client.get("/login").text).group(1)
    for _ in range(5):
        r = client.post("/login", data={"username": "bob", "password": "bad-password", "csrf_token": token})
        assert r.status_code == 401
    r = client.post("/login", data={"username": "bob", "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 429
    assert "Too many failed sign-in attempts" in r.text and int(r.headers["retry-after"]) > 0
    # another user from the same address is not locked out
    ok = client.post(
        "/login", data={"username": "ada", "password": PASSWORD, "csrf_token": token}, follow_redirects=False
    )
    assert ok.status_code == 303


def test_state_changing_request_without_csrf_token_is_403(agent: Browser, engine) -> None:
    conv = thread(engine)["conversation"]
    resp = agent.client.post(f"/c/{conv}/resolve", follow_redirects=False)
    assert resp.status_code == 403
    resp = agent.client.post(f"/c/{conv}/resolve", data={"csrf_token": "forged"}, follow_redirects=False)
    assert resp.status_code == 403
    resp = agent.client.post("/api/v1/check-reply", json={"text": "hi"})
    assert resp.status_code == 403
    ok = agent.post(f"/c/{conv}/resolve")
    assert ok.status_code == 303


def test_agent_gets_403_on_admin_pages_and_admin_api(agent: Browser) -> None:
    for path in (
        "/settings/users",
        "/settings/accounts",
        "/settings/listening",
        "/settings/sla",
        "/settings/audit",
    ):
        assert agent.client.get(path).status_code == 403, path
    assert (
        agent.post("/settings/users", {"username": "eve", "password": "x" * 10, "role": "admin"}).status_code
        == 403
    )
    assert agent.client.get("/settings/saved-replies").status_code == 403


def test_admin_reaches_every_settings_page(admin: Browser) -> None:
    for path in (
        "/settings/users",
        "/settings/accounts",
        "/settings/listening",
        "/settings/sla",
        "/settings/audit",
        "/settings/saved-replies",
    ):
        assert admin.client.get(path).status_code == 200, path


def test_admin_adds_user_who_can_sign_in(admin: Browser, app, engine) -> None:
    resp = admin.post(
        "/settings/users",
        {"username": "carol", "name": "Carol", "role": "agent", "password": "long enough pw"},
    )
    assert resp.status_code == 303 and "notice=" in resp.headers["location"]
    assert users_svc.get_user_by_username(engine, "carol") is not None
    bad = admin.post("/settings/users", {"username": "dave", "role": "agent", "password": "short"})
    assert "error=" in bad.headers["location"]
    with TestClient(app) as c:
        Browser(c).login("carol", "long enough pw")


def test_disabled_user_session_stops_working(agent: Browser, engine, people) -> None:
    assert agent.client.get("/").status_code == 200
    users_svc.disable_user(engine, people["agent"].id)
    assert agent.client.get("/", follow_redirects=False).status_code == 303


@SQLITE_ONLY
def test_logout_ends_the_session(agent: Browser) -> None:
    assert agent.post("/logout").status_code == 303
    assert agent.client.get("/", follow_redirects=False).status_code == 303


@SQLITE_ONLY
def test_security_headers_on_every_response(client: TestClient, agent: Browser) -> None:
    for resp in (
        client.get("/login"),
        agent.client.get("/"),
        client.get("/static/app.css"),
        client.get("/api/v1/conversations"),
    ):
        csp = resp.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert resp.headers["x-content-type-options"] == "nosniff"
        assert resp.headers["referrer-policy"]


@SQLITE_ONLY
def test_pages_have_no_inline_script_or_handlers(admin: Browser, engine) -> None:
    conv = thread(engine)["conversation"]
    for path in ("/", f"/c/{conv}", "/search?q=order", "/profile", "/settings/users", "/login"):
        html = admin.client.get(path).text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert not re.search(r"\son[a-z]+\s*=", html), path
        assert "style=" not in html, path


def test_api_token_bearer_auth_is_csrf_exempt_and_revocable(agent: Browser, app, engine, people) -> None:
    resp = agent.post("/profile/tokens", {"label": "script"})
    token = re.search(r'id="new-token">([^<]+)<', resp.text).group(1)
    with TestClient(app) as c:
        h = {"Authorization": f"Bearer {token}"}
        assert c.get("/api/v1/conversations", headers=h).status_code == 200
        assert c.post("/api/v1/check-reply", json={"text": "hello"}, headers=h).status_code == 200
        assert c.get("/api/v1/conversations", headers={"Authorization": "Bearer nope"}).status_code == 401
        tok = users_svc.list_api_tokens(engine, people["agent"].id)[0]
        users_svc.revoke_api_token(engine, people["agent"].id, tok.id)
        assert c.get("/api/v1/conversations", headers=h).status_code == 401
