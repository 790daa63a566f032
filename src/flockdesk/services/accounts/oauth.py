"""Connecting an X account from the browser: OAuth 2.0 authorization code flow with PKCE (S256)."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.domain.errors import InvalidInput
from flockdesk.services.accounts.api_hosts import ApiUrlRefused, check_api_url
from flockdesk.store.schema import oauth_states

SCOPES = "tweet.read tweet.write tweet.moderate.write users.read dm.read dm.write offline.access"
PURPOSES = ("corporate", "care", "personal")
STATE_TTL = timedelta(minutes=15)


class OAuthError(InvalidInput):
    """The connect flow cannot go on; the message says what to do."""


@dataclass(frozen=True, slots=True)
class TokenSet:
    access_token: str
    refresh_token: str | None
    expires_in: int | None
    scope: str
    base_url: str
    purpose: str
    user_id: int | None
    client_id: str
    raw: dict[str, Any]


def pkce_pair() -> tuple[str, str]:
    """A code verifier (43-128 chars, RFC 7636) and its S256 challenge."""
    verifier = secrets.token_urlsafe(64)[:96]
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _safe_url(base_url: str, allowed_hosts: Sequence[str]) -> str:
    try:
        return check_api_url(base_url, allowed_hosts)
    except ApiUrlRefused as exc:
        raise OAuthError(str(exc)) from exc


def start(
    engine: Engine,
    *,
    base_url: str,
    purpose: str,
    client_id: str,
    redirect_uri: str,
    user_id: int | None,
    allowed_hosts: Sequence[str] = (),
) -> str:
    """Record a new state + verifier and return the URL to send the browser to. The base URL must be
    one the server may call (services/accounts/api_hosts.py)."""
    base_url = _safe_url(base_url, allowed_hosts)
    if purpose not in PURPOSES:
        raise OAuthError(f"Choose what the account is for: one of {', '.join(PURPOSES)}.")
    if not client_id.strip():
        raise OAuthError("Enter the OAuth 2.0 client ID of your X app (developer portal > Keys and tokens).")
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(oauth_states.delete().where(oauth_states.c.created_at < now - STATE_TTL))
        conn.execute(
            oauth_states.insert().values(
                state=state,
                code_verifier=verifier,
                base_url=base_url,
                purpose=purpose,
                user_id=user_id,
                created_at=now,
                client_id=client_id.strip(),
            )
        )
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id.strip(),
            "redirect_uri": redirect_uri,
            "scope": SCOPES,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    return f"{base_url}/i/oauth2/authorize?{query}"


def _take_state(engine: Engine, state: str) -> dict[str, Any]:
    with engine.begin() as conn:
        row = conn.execute(sa.select(oauth_states).where(oauth_states.c.state == state)).first()
        if row is None:
            raise OAuthError(
                "This sign-in link is unknown or was already used. Start 'Connect an X account' again."
            )
        conn.execute(oauth_states.delete().where(oauth_states.c.state == state))
    data = dict(row._mapping)
    if datetime.now(UTC) - data["created_at"] > STATE_TTL:
        raise OAuthError("The sign-in took too long (over 15 minutes). Start 'Connect an X account' again.")
    return data


def finish(
    engine: Engine,
    *,
    state: str,
    code: str,
    redirect_uri: str,
    user_id: int | None = None,
    http: httpx.Client | None = None,
    timeout_s: float = 10.0,
    allowed_hosts: Sequence[str] = (),
) -> TokenSet:
    """Exchange the authorization code (with the stored verifier) for tokens. One use per state.
    The base URL is checked again (its host may resolve elsewhere by now); an error names the HTTP
    status, never the remote body."""
    if not state or not code:
        raise OAuthError("X did not return an authorization code. Start 'Connect an X account' again.")
    st = _take_state(engine, state)
    if user_id is not None and st["user_id"] is not None and st["user_id"] != user_id:
        raise OAuthError("This sign-in was started by another user. Start 'Connect an X account' again.")
    base_url = _safe_url(st["base_url"], allowed_hosts)
    client = http or httpx.Client(timeout=timeout_s, follow_redirects=False)
    try:
        resp = client.post(
            f"{base_url}/2/oauth2/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "client_id": st["client_id"],
                "code_verifier": st["code_verifier"],
            },
        )
    except httpx.HTTPError as exc:
        raise OAuthError(
            f"Could not reach {base_url} to finish sign-in ({type(exc).__name__}). Try again."
        ) from exc
    finally:
        if http is None:
            client.close()
    if resp.status_code != 200:
        raise OAuthError(
            f"The token endpoint refused the sign-in (HTTP {resp.status_code}). Check the client ID and "
            "that the app allows this callback URL, then start 'Connect an X account' again."
        )
    try:
        body = resp.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not body.get("access_token"):
        raise OAuthError("X's token response had no access token. Try again.")
    return TokenSet(
        access_token=str(body["access_token"]),
        refresh_token=body.get("refresh_token"),
        expires_in=body.get("expires_in"),
        scope=str(body.get("scope", "")),
        base_url=base_url,
        purpose=st["purpose"],
        user_id=st["user_id"],
        client_id=st["client_id"],
        raw=body,
    )
