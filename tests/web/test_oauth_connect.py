"""An admin connects an X account from the browser: OAuth 2.0 PKCE against the emulator."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from flockdesk.emulator.server import EmulatorServer
from flockdesk.services.accounts import connected as accounts_svc

from .conftest import Browser
from .seed import account


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(oauth_auto_approve=True) as emu:
        yield emu


@pytest.fixture
def loopback_admin(app, people) -> Iterator[Browser]:  # type: ignore[no-untyped-def]
    # the emulator accepts loopback redirect URIs only, as X does for unregistered local apps
    with TestClient(app, base_url="http://127.0.0.1") as c:
        b = Browser(c)
        b.login("ada")
        yield b


def test_connect_x_account_with_pkce(loopback_admin: Browser, emulator: EmulatorServer, engine) -> None:
    client_id = emulator.oauth_client["client_id"]
    start = loopback_admin.post(
        "/settings/accounts/connect",
        {"base_url": emulator.base_url, "purpose": "corporate", "client_id": client_id},
    )
    assert start.status_code == 200
    url = html.unescape(re.search(r'id="continue" href="([^"]+)"', start.text).group(1))
    assert url.startswith(emulator.base_url + "/i/oauth2/authorize?")
    q = parse_qs(urlsplit(url).query)
    assert q["code_challenge_method"] == ["S256"] and len(q["code_challenge"][0]) == 43
    assert "offline.access" in q["scope"][0]
    approved = httpx.get(url, follow_redirects=False)
    assert approved.status_code == 302
    back = urlsplit(approved.headers["location"])
    assert back.path == "/settings/accounts/callback"
    done = loopback_admin.client.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert done.status_code == 303 and "notice=Connected" in done.headers["location"], done.headers[
        "location"
    ]
    accts = accounts_svc.list_accounts(engine)
    assert len(accts) == 1 and accts[0].purpose == "corporate"
    assert accts[0].username == emulator.org_user["username"]
    page = loopback_admin.client.get("/settings/accounts").text
    assert emulator.org_user["username"] in page
    replay = loopback_admin.client.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert "error=" in replay.headers["location"]


def test_connect_refuses_bad_input_and_unknown_state(loopback_admin: Browser) -> None:
    r = loopback_admin.post(
        "/settings/accounts/connect", {"base_url": "ftp://x", "purpose": "care", "client_id": "c"}
    )
    assert "error=" in r.headers["location"]
    r = loopback_admin.client.get("/settings/accounts/callback?state=forged&code=abc", follow_redirects=False)
    assert "error=" in r.headers["location"]
    r = loopback_admin.client.get(
        "/settings/accounts/callback?error=access_denied&state=x", follow_redirects=False
    )
    assert "did+not+authorise" in r.headers["location"]


def test_listening_queries_page_adds_and_removes_with_cost(loopback_admin: Browser, engine) -> None:
    account(engine)
    r = loopback_admin.post("/settings/listening", {"query": "#acme", "posts_per_day": "200"})
    assert "notice=" in r.headers["location"] and "Estimated+cost" in r.headers["location"]
    page = loopback_admin.client.get("/settings/listening").text
    assert "#acme" in page and "$" in page
    bad = loopback_admin.post("/settings/listening", {"query": "#"})
    assert "error=" in bad.headers["location"]

    sid = re.search(r"/settings/listening/(\d+)/delete", page).group(1)
    loopback_admin.post(f"/settings/listening/{sid}/delete")
    assert "#acme" not in loopback_admin.client.get("/settings/listening").text


def test_connect_refuses_internal_hosts_with_a_clear_message(loopback_admin: Browser, settings) -> None:  # type: ignore[no-untyped-def]
    settings.allowed_api_hosts = []  # what an install has unless it names hosts
    for url in ("http://127.0.0.1:9", "https://10.0.0.1", "https://169.254.169.254", "https://localhost"):
        r = loopback_admin.post(
            "/settings/accounts/connect", {"base_url": url, "purpose": "care", "client_id": "c"}
        )
        assert r.status_code == 303 and "error=" in r.headers["location"], url
        page = loopback_admin.client.get(r.headers["location"]).text
        assert "allowed_api_hosts" in page and ("must use https" in page or "not a public" in page), url


def test_a_failed_sign_in_never_shows_the_remote_answer(loopback_admin: Browser, leaky_http) -> None:  # type: ignore[no-untyped-def]
    start = loopback_admin.post(
        "/settings/accounts/connect", {"base_url": leaky_http.url, "purpose": "care", "client_id": "c"}
    )
    url = html.unescape(re.search(r'id="continue" href="([^"]+)"', start.text).group(1))
    state = parse_qs(urlsplit(url).query)["state"][0]
    done = loopback_admin.client.get(
        f"/settings/accounts/callback?state={state}&code=abc", follow_redirects=False
    )
    assert done.status_code == 303
    page = loopback_admin.client.get(done.headers["location"]).text
    assert (
        "HTTP 400" in page
        and leaky_http.secret not in page
        and leaky_http.secret not in done.headers["location"]
    )
