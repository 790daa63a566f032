"""Accounts: verified with users/me, stored encrypted, default sources; tokens never shown; refresh."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.emulator.server import EmulatorServer
from flockdesk.services.accounts import connected as accounts
from flockdesk.services.accounts.credentials import (
    Credentials,
    CredentialsError,
    Secret,
    decrypt_credentials,
    encrypt_credentials,
)
from flockdesk.settings import Settings
from flockdesk.store.schema import accounts as accounts_t
from flockdesk.store.schema import sources


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorServer]:
    with EmulatorServer(scenario="airline", speedup=900) as server:
        yield server


def test_secret_never_shows_itself() -> None:
    s = Secret("hunter2-token")
    creds = Credentials(s, Secret("refresh-me"), 12.0)
    for shown in (repr(s), str(s), f"{s}", repr(creds), str(creds)):
        assert "hunter2" not in shown and "refresh-me" not in shown
    assert s.reveal() == "hunter2-token"


def test_credentials_round_trip_and_a_wrong_key_is_a_clear_error() -> None:
    creds = Credentials(Secret("tok"), Secret("ref"), 123.0, "client")
    blob = encrypt_credentials("key-one", creds)
    assert b"tok" not in blob
    assert decrypt_credentials("key-one", blob) == creds
    with pytest.raises(CredentialsError, match="SECRET_KEY"):
        decrypt_credentials("key-two", blob)


def test_add_account_verifies_stores_encrypted_and_creates_default_sources(
    engine: Engine, settings: Settings, emu: EmulatorServer
) -> None:
    info = accounts.add_account(
        engine, settings, base_url=emu.base_url + "/", token=emu.token, purpose="care"
    )
    assert info.external_user_id == emu.org_user["id"] and info.username == emu.org_user["username"]
    assert info.base_url == emu.base_url
    with engine.connect() as conn:
        blob = conn.execute(sa.select(accounts_t.c.credentials_encrypted)).scalar_one()
        kinds = sorted(conn.execute(sa.select(sources.c.kind)).scalars())
    assert emu.token.encode() not in bytes(blob)
    assert kinds == ["dms", "mentions"]
    assert accounts.load_credentials(engine, settings, info.id).access_token.reveal() == emu.token
    assert emu.token not in repr(accounts.list_accounts(engine))
    again = accounts.add_account(
        engine, settings, base_url=emu.base_url, token=emu.token, purpose="corporate"
    )
    assert again.id == info.id and again.purpose == "corporate"  # re-connecting updates, never duplicates
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(sources)).scalar_one() == 2


BAD_INPUT = [
    ("URL", "TOKEN", "care", "must start with https"),
    ("{emu}", "wrong-token", "care", "refused the token"),
    ("http://127.0.0.1:9", "TOKEN", "care", "cannot reach"),
    ("{emu}", "TOKEN", "sales", "--purpose"),
    ("{emu}", "  ", "care", "--token is empty"),
]


def test_bad_input_is_a_clear_error_and_nothing_is_stored(
    engine: Engine, settings: Settings, emu: EmulatorServer
) -> None:
    for base_url, token, purpose, message in BAD_INPUT:
        with pytest.raises(accounts.AccountError, match=message):
            accounts.add_account(
                engine,
                settings,
                base_url=base_url.format(emu=emu.base_url),
                token=token.replace("TOKEN", emu.token),
                purpose=purpose,
            )
    assert accounts.list_accounts(engine) == []


def _pkce_token_set(emu: EmulatorServer) -> dict[str, object]:
    """A token set from the emulator's authorization-code + PKCE flow (auto-approved)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    client_id = emu.oauth_client["client_id"]
    redirect = "http://127.0.0.1:1/callback"
    resp = httpx.get(
        f"{emu.base_url}/i/oauth2/authorize",
        params={
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect,
            "state": "s",
            "scope": "tweet.read users.read dm.read offline.access",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
        follow_redirects=False,
        timeout=10,
    )
    assert resp.status_code == 302, resp.text
    code = parse_qs(urlparse(resp.headers["location"]).query)["code"][0]
    tok = httpx.post(
        f"{emu.base_url}/2/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": client_id,
            "redirect_uri": redirect,
            "code_verifier": verifier,
        },
        timeout=10,
    )
    assert tok.status_code == 200, tok.text
    return tok.json()  # type: ignore[no-any-return]


def test_expired_oauth_token_is_refreshed_and_stored(
    engine: Engine, settings: Settings, emu: EmulatorServer
) -> None:
    tokens = _pkce_token_set(emu)
    info = accounts.add_account_from_oauth(
        engine,
        settings,
        base_url=emu.base_url,
        access_token=str(tokens["access_token"]),
        refresh_token=str(tokens["refresh_token"]),
        expires_in=float(tokens["expires_in"]),  # type: ignore[arg-type]
        client_id=emu.oauth_client["client_id"],
    )
    old = accounts.load_credentials(engine, settings, info.id)
    assert accounts.fresh_credentials(engine, settings, info.id) == old  # not expired: no refresh
    fresh = accounts.fresh_credentials(engine, settings, info.id, now=time.time() + 10 * 86400)
    assert fresh.access_token != old.access_token and fresh.refresh_token is not None
    assert accounts.load_credentials(engine, settings, info.id).access_token == fresh.access_token
    # the refreshed token works against the API
    conn = accounts.connector_for_account(engine, settings, info.id)
    assert conn.get_me().external_id == emu.org_user["id"]
