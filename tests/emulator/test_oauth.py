"""OAuth 2.0 Authorization Code with PKCE: authorize -> code -> token -> API call -> refresh."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

import httpx
from starlette.testclient import TestClient
from xdk.oauth2_auth import OAuth2PKCEAuth

from flockdesk.emulator import EmulatorServer

REDIRECT = "http://127.0.0.1:8000/accounts/x/callback"
CLIENT = ("flockdesk-emulator-client", "flockdesk-emulator-secret")


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def _authorize(client: TestClient, challenge: str, scope: str, **extra: str) -> httpx.Response:
    params = {
        "response_type": "code",
        "client_id": CLIENT[0],
        "redirect_uri": REDIRECT,
        "scope": scope,
        "state": "st-123",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    return client.get("/i/oauth2/authorize", params=params, follow_redirects=False)


def test_full_pkce_flow_and_refresh(client: TestClient, state) -> None:
    verifier, challenge = _pkce()
    r = _authorize(client, challenge, "tweet.read users.read dm.read offline.access")
    assert r.status_code == 302
    loc = urlsplit(r.headers["location"])
    assert f"{loc.scheme}://{loc.netloc}{loc.path}" == REDIRECT
    q = parse_qs(loc.query)
    assert q["state"] == ["st-123"]
    code = q["code"][0]
    bad = client.post(
        "/2/oauth2/token",
        auth=CLIENT,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": "wrong" * 10,
        },
    )
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_request"
    r = _authorize(client, challenge, "tweet.read users.read dm.read offline.access")
    code = parse_qs(urlsplit(r.headers["location"]).query)["code"][0]
    tok = client.post(
        "/2/oauth2/token",
        auth=CLIENT,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
    )
    assert tok.status_code == 200, tok.text
    body = tok.json()
    assert body["token_type"] == "bearer" and body["expires_in"] > 0 and body["refresh_token"]
    assert set(body["scope"].split()) == {"tweet.read", "users.read", "dm.read", "offline.access"}
    # the code is single use
    again = client.post(
        "/2/oauth2/token",
        auth=CLIENT,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
    )
    assert again.status_code == 400
    h = {"Authorization": f"Bearer {body['access_token']}"}
    me = client.get("/2/users/me", headers=h)
    assert me.status_code == 200 and me.json()["data"]["id"] == state.org.id
    assert client.get("/2/dm_events", headers=h).status_code == 200
    # no tweet.write scope: posting is refused
    r = client.post("/2/tweets", headers=h, json={"text": "hello"})
    assert r.status_code == 403 and "tweet.write" in r.json()["detail"]
    ref = client.post(
        "/2/oauth2/token",
        data={"grant_type": "refresh_token", "client_id": CLIENT[0], "refresh_token": body["refresh_token"]},
    )
    assert ref.status_code == 200
    new = ref.json()
    assert new["access_token"] != body["access_token"] and new["refresh_token"] != body["refresh_token"]
    assert (
        client.get("/2/users/me", headers={"Authorization": f"Bearer {new['access_token']}"}).status_code
        == 200
    )
    reuse = client.post(
        "/2/oauth2/token",
        data={"grant_type": "refresh_token", "client_id": CLIENT[0], "refresh_token": body["refresh_token"]},
    )
    assert reuse.status_code == 400  # refresh tokens rotate


def test_authorize_validates_its_parameters(client: TestClient) -> None:
    _, challenge = _pkce()
    assert _authorize(client, challenge, "tweet.read", client_id="nobody").status_code == 400
    assert (
        _authorize(client, challenge, "tweet.read", redirect_uri="https://evil.example/cb").status_code == 400
    )
    assert _authorize(client, challenge, "tweet.read", state="").status_code == 400
    assert _authorize(client, "", "tweet.read").status_code == 400
    assert _authorize(client, challenge, "tweet.read", code_challenge_method="md5").status_code == 400
    r = _authorize(client, challenge, "tweet.read bogus.scope")
    assert r.status_code == 400 and "bogus.scope" in r.text


def test_consent_page_when_auto_approve_is_off(client: TestClient) -> None:
    client.post("/_emulator/config", json={"oauth_auto_approve": False})
    _, challenge = _pkce()
    page = _authorize(client, challenge, "tweet.read users.read")
    assert page.status_code == 200 and "Authorize app" in page.text
    form = {
        "response_type": "code",
        "client_id": CLIENT[0],
        "redirect_uri": REDIRECT,
        "scope": "tweet.read",
        "state": "s<x>",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    denied = client.post("/i/oauth2/authorize", data={**form, "decision": "deny"}, follow_redirects=False)
    assert "error=access_denied" in denied.headers["location"]
    ok = client.post("/i/oauth2/authorize", data={**form, "decision": "approve"}, follow_redirects=False)
    assert "code=" in ok.headers["location"]


def test_xdk_oauth2_helper_works_against_the_emulator(monkeypatch) -> None:
    # oauthlib (under xdk) refuses plain http unless told the transport is a local one
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    with EmulatorServer(speedup=900) as emu:
        auth = OAuth2PKCEAuth(
            base_url=emu.base_url,
            authorization_base_url=emu.base_url + "/i",
            client_id=CLIENT[0],
            client_secret=CLIENT[1],
            redirect_uri=REDIRECT,
            scope=["tweet.read", "users.read", "offline.access"],
        )
        url = auth.get_authorization_url(state="xyz")
        assert url.startswith(emu.base_url + "/i/oauth2/authorize?")
        callback = httpx.get(url, follow_redirects=False).headers["location"]
        token = auth.fetch_token(callback)
        assert token["access_token"] and token["refresh_token"]
        me = httpx.get(
            emu.base_url + "/2/users/me", headers={"Authorization": f"Bearer {token['access_token']}"}
        )
        assert me.json()["data"]["username"] == emu.org_user["username"]
        refreshed = auth.refresh_token()
        assert refreshed["access_token"] != token["access_token"]
