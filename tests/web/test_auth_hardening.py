"""CSRF with a stray bearer header, client addresses behind proxies, no-store on every signed-in answer."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from flockdesk.cli.main import app as cli
from flockdesk.services.team import users as users_svc
from flockdesk.settings import Settings, parse_networks
from flockdesk.store.db import make_engine
from flockdesk.web.app import create_app
from flockdesk.web.security import client_address

from .conftest import CSRF_RE, PASSWORD, SQLITE_ONLY, Browser
from .seed import thread

# ---- defect 10: CSRF is skipped only for a request that a valid bearer token authenticates ---------


@SQLITE_ONLY
def test_bogus_bearer_header_does_not_skip_csrf_on_a_cookie_session(agent: Browser, engine) -> None:  # type: ignore[no-untyped-def]
    conv = thread(engine)["conversation"]
    forged = agent.client.post(
        f"/c/{conv}/resolve", headers={"Authorization": "Bearer not-a-token"}, follow_redirects=False
    )
    assert forged.status_code == 403
    api = agent.client.post(
        "/api/v1/check-reply", json={"text": "hi"}, headers={"Authorization": "Bearer not-a-token"}
    )
    assert api.status_code == 401 and "Invalid or revoked API token" in api.text  # not the cookie
    assert agent.post(f"/c/{conv}/resolve").status_code == 303


@SQLITE_ONLY
def test_valid_bearer_token_never_uses_the_cookie_session(agent: Browser, engine, people) -> None:  # type: ignore[no-untyped-def]
    conv = thread(engine)["conversation"]
    token = users_svc.create_api_token(engine, people["admin"].id, "t")
    page = agent.client.post(
        f"/c/{conv}/resolve", headers={"Authorization": f"Bearer {token}"}, follow_redirects=False
    )
    assert page.status_code == 401  # pages take no tokens, and the cookie is not used instead
    api = agent.client.post(
        "/api/v1/check-reply", json={"text": "hi"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert api.status_code == 200


# ---- defect 2: client address, only through trusted proxies -----------------------------------------


def test_client_address_reads_forwarded_hops_from_the_right() -> None:
    proxies = parse_networks("10.0.0.0/8, 192.0.2.1")
    assert client_address("203.0.113.9", ["1.2.3.4"], proxies) == "203.0.113.9"  # untrusted peer
    assert client_address("10.0.0.2", ["1.2.3.4, 203.0.113.9"], proxies) == "203.0.113.9"
    assert client_address("10.0.0.2", ["1.2.3.4", "203.0.113.9, 192.0.2.1"], proxies) == "203.0.113.9"
    assert client_address("10.0.0.2", ["10.1.1.1, 10.2.2.2"], proxies) == "10.1.1.1"  # all proxies
    assert client_address("10.0.0.2", [], proxies) == "10.0.0.2"
    assert client_address("127.0.0.1", ["1.2.3.4"], ()) == "127.0.0.1"  # nothing trusted by default
    assert Settings().trusted_proxy_networks() == ()
    assert (
        ipaddress.ip_address("10.9.9.9") in Settings(trusted_proxies="10.0.0.0/8").trusted_proxy_networks()[0]
    )


def test_trusted_proxies_setting_refuses_garbage() -> None:
    with pytest.raises(ValueError, match="not an IP address or CIDR range"):
        Settings(trusted_proxies="10.0.0.1, proxy.internal")


def _login(client: TestClient, username: str, password: str, forwarded_for: str) -> int:
    token = CSRF_RE.search(client.get("/login").text).group(1)  # type: ignore[union-attr]
    resp = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        headers={"X-Forwarded-For": forwarded_for},
        follow_redirects=False,
    )
    return resp.status_code


def test_spoofed_forwarded_for_does_not_escape_the_throttle_under_flockdesk_web(
    sqlite_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app as `flockdesk web` serves it (uvicorn's own layers included), reached from 127.0.0.1:
    a new X-Forwarded-For per guess must not count as a new address."""
    started: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: started.update(app=app, **kw))
    data = str(sqlite_settings.data_dir)
    result = CliRunner().invoke(cli, ["web", "--data-dir", data])
    assert result.exit_code == 0, result.output
    users_svc.create_user(make_engine(Settings(data_dir=sqlite_settings.data_dir)), "bob", PASSWORD, "agent")
    options = {k: v for k, v in started.items() if k not in ("app", "host", "port", "log_level")}
    config = uvicorn.Config(started["app"], log_config=None, **options)
    config.load()
    client = TestClient(config.loaded_app, client=("127.0.0.1", 40000))
    for i in range(5):
        assert _login(client, "bob", "bad-password", f"198.51.100.{i}") == 401
    assert _login(client, "bob", PASSWORD, "198.51.100.99") == 429


@SQLITE_ONLY
def test_behind_a_trusted_proxy_the_rightmost_untrusted_hop_is_the_client(
    settings: Settings, engine, people
) -> None:  # type: ignore[no-untyped-def]
    app = create_app(settings.model_copy(update={"trusted_proxies": "127.0.0.1"}), engine, housekeeping=False)
    client = TestClient(app, client=("127.0.0.1", 40000))
    # the attacker writes its own X-Forwarded-For; the proxy appends the address it really saw
    for i in range(5):
        assert _login(client, "bob", "bad-password", f"198.51.100.{i}, 203.0.113.7") == 401
    assert _login(client, "bob", PASSWORD, "198.51.100.99, 203.0.113.7") == 429
    # another client behind the same proxy is a different address
    assert _login(client, "bob", PASSWORD, "203.0.113.8") == 303


# ---- defect 11c: signed-in answers are not cached ----------------------------------------------------


@SQLITE_ONLY
def test_signed_in_pages_and_api_answers_are_no_store(client: TestClient, agent: Browser) -> None:
    assert client.get("/login").headers["cache-control"] == "no-store"
    for url in ("/", "/profile", "/inbox/all/rows", "/api/v1/conversations"):
        resp = agent.client.get(url)
        assert resp.status_code == 200 and resp.headers["cache-control"] == "no-store", url
    assert agent.post_json("/api/v1/check-reply", {"text": "hi"}).headers["cache-control"] == "no-store"
    static = client.get("/static/app.css")
    assert static.status_code == 200 and "no-store" not in static.headers.get("cache-control", "")
