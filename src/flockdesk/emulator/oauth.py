"""OAuth 2.0 Authorization Code with PKCE, on the paths X and xdk use:
`GET /i/oauth2/authorize` (xdk's authorization_base_url is `<base>/i`) and `POST /2/oauth2/token`
(authorization_code and refresh_token grants), plus `POST /2/oauth2/revoke`."""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from flockdesk.emulator.http import json_response

if TYPE_CHECKING:
    # annotations only: the state builds its OAuthStore, so state.py imports this module
    from flockdesk.emulator.state import EmulatorState

KNOWN_SCOPES = {
    "tweet.read",
    "tweet.write",
    "tweet.moderate.write",
    "users.read",
    "follows.read",
    "follows.write",
    "offline.access",
    "space.read",
    "mute.read",
    "mute.write",
    "like.read",
    "like.write",
    "list.read",
    "list.write",
    "block.read",
    "block.write",
    "bookmark.read",
    "bookmark.write",
    "dm.read",
    "dm.write",
    "media.write",
}
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


@dataclass
class OAuthClient:
    client_id: str
    client_secret: str | None = None
    redirect_uris: list[str] = field(default_factory=list)  # empty: any loopback http(s) URI

    def allows(self, uri: str) -> bool:
        if self.redirect_uris:
            return uri in self.redirect_uris
        parts = urlsplit(uri)
        return parts.scheme in ("http", "https") and (parts.hostname or "") in LOOPBACK_HOSTS


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    scopes: set[str]
    challenge: str
    method: str
    expires: float


@dataclass
class _Token:
    client_id: str
    scopes: set[str]
    expires: float


class OAuthStore:
    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.clients: dict[str, OAuthClient] = {}
        self.codes: dict[str, _Grant] = {}
        self.access: dict[str, _Token] = {}
        self.refresh: dict[str, _Token] = {}
        self.default_client = self.register(
            OAuthClient("flockdesk-emulator-client", "flockdesk-emulator-secret")
        )

    def register(self, client: OAuthClient) -> OAuthClient:
        self.clients[client.client_id] = client
        return client

    def scopes_for_access_token(self, token: str) -> set[str] | None:
        tok = self.access.get(token)
        if tok is None or tok.expires < time.time():
            return None
        return tok.scopes

    def issue(self, client_id: str, scopes: set[str]) -> dict[str, object]:
        ttl = self.state.config.token_ttl_s
        access = secrets.token_urlsafe(32)
        self.access[access] = _Token(client_id, scopes, time.time() + ttl)
        out: dict[str, object] = {
            "token_type": "bearer",
            "expires_in": ttl,
            "access_token": access,
            "scope": " ".join(sorted(scopes)),
        }
        if "offline.access" in scopes:
            refresh = secrets.token_urlsafe(32)
            self.refresh[refresh] = _Token(client_id, scopes, time.time() + 180 * 86400)
            out["refresh_token"] = refresh
        return out


def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    return json_response({"error": error, "error_description": description}, status)


def _challenge(verifier: str, method: str) -> str:
    if method == "plain":
        return verifier
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _store(request: Request) -> OAuthStore:
    state: EmulatorState = request.app.state.emulator
    return state.oauth


def _validate_authorize(store: OAuthStore, q: dict[str, str]) -> tuple[_Grant | None, str | None]:
    client = store.clients.get(q.get("client_id", ""))
    if client is None:
        return (
            None,
            "unknown client_id: register it with POST /_emulator/oauth/clients or use the default client",
        )
    redirect = q.get("redirect_uri", "")
    if not client.allows(redirect):
        return None, f"redirect_uri {redirect!r} is not registered for this client"
    if q.get("response_type") != "code":
        return None, "response_type must be 'code'"
    if not q.get("state"):
        return None, "state is required"
    scopes = set(q.get("scope", "").split())
    if not scopes or scopes - KNOWN_SCOPES:
        return (
            None,
            f"scope must be a space-separated list of known scopes; unknown: {sorted(scopes - KNOWN_SCOPES)}",
        )
    method = q.get("code_challenge_method", "plain")
    if method not in ("S256", "plain") or not q.get("code_challenge"):
        return None, "code_challenge is required and code_challenge_method must be S256 or plain"
    return _Grant(client.client_id, redirect, scopes, q["code_challenge"], method, time.time() + 600), None


def _approve(store: OAuthStore, grant: _Grant, state_param: str) -> Response:
    code = secrets.token_urlsafe(24)
    store.codes[code] = grant
    sep = "&" if "?" in grant.redirect_uri else "?"
    return RedirectResponse(grant.redirect_uri + sep + urlencode({"state": state_param, "code": code}), 302)


async def authorize(request: Request) -> Response:
    store = _store(request)
    if request.method == "GET":
        q = dict(request.query_params)
    else:
        q = {k: str(v) for k, v in (await request.form()).items()}
    with store.state.lock:
        grant, error = _validate_authorize(store, q)
        if grant is None:
            return HTMLResponse(f"<h1>Authorization error</h1><p>{html.escape(error or '')}</p>", 400)
        if request.method == "POST" or store.state.config.oauth_auto_approve:
            if request.method == "POST" and q.get("decision") != "approve":
                sep = "&" if "?" in grant.redirect_uri else "?"
                return RedirectResponse(
                    grant.redirect_uri + sep + urlencode({"state": q["state"], "error": "access_denied"}), 302
                )
            return _approve(store, grant, q["state"])
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in q.items()
    )
    org = html.escape(store.state.org.username)
    page = (
        f"<!doctype html><title>Authorize app</title><h1>Authorize access to @{org}?</h1>"
        f"<p>Scopes: {html.escape(q.get('scope', ''))}</p><form method=post>{hidden}"
        "<button name=decision value=approve id=approve>Authorize app</button> "
        "<button name=decision value=deny id=deny>Cancel</button></form>"
    )
    return HTMLResponse(page)


def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str, str | None]:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            raw = base64.b64decode(header[6:]).decode()
        except ValueError:
            return "", None
        cid, _, secret = raw.partition(":")
        return cid, secret
    return form.get("client_id", ""), None


async def token(request: Request) -> Response:
    store = _store(request)
    form = {k: str(v) for k, v in (await request.form()).items()}
    client_id, secret = _client_credentials(request, form)
    with store.state.lock:
        client = store.clients.get(client_id)
        if client is None or (secret is not None and client.client_secret != secret):
            return _oauth_error("invalid_client", "unknown client or wrong client secret", 401)
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            grant = store.codes.pop(form.get("code", ""), None)
            if grant is None or grant.expires < time.time() or grant.client_id != client_id:
                return _oauth_error("invalid_request", "Value passed for the authorization code was invalid.")
            if form.get("redirect_uri") != grant.redirect_uri:
                return _oauth_error(
                    "invalid_request", "redirect_uri does not match the one used to authorize"
                )
            verifier = form.get("code_verifier", "")
            if not verifier or _challenge(verifier, grant.method) != grant.challenge:
                return _oauth_error("invalid_request", "code_verifier does not match the code_challenge")
            return json_response(store.issue(client_id, grant.scopes))
        if grant_type == "refresh_token":
            old = store.refresh.pop(form.get("refresh_token", ""), None)
            if old is None or old.client_id != client_id or old.expires < time.time():
                return _oauth_error("invalid_request", "Value passed for the token was invalid.")
            return json_response(store.issue(client_id, old.scopes))
        return _oauth_error(
            "unsupported_grant_type", "grant_type must be authorization_code or refresh_token"
        )


async def revoke(request: Request) -> Response:
    store = _store(request)
    form = {k: str(v) for k, v in (await request.form()).items()}
    tok = form.get("token", "")
    with store.state.lock:
        store.access.pop(tok, None)
        store.refresh.pop(tok, None)
    return json_response({"revoked": True})


def routes() -> list[Route]:
    return [
        Route("/i/oauth2/authorize", authorize, methods=["GET", "POST"]),
        Route("/2/oauth2/token", token, methods=["POST"]),
        Route("/2/oauth2/revoke", revoke, methods=["POST"]),
    ]
