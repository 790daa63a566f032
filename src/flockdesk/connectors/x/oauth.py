"""OAuth 2.0 token refresh for X user tokens (PKCE public clients).

xdk's `OAuth2PKCEAuth.refresh_token()` insists on a client_secret (confidential clients only) and
goes through requests-oauthlib; a PKCE public client refreshes with its client_id alone, so this one
call is a plain form POST to `{base_url}/2/oauth2/token` with httpx.
"""

from __future__ import annotations

import time

import httpx

from flockdesk.connectors.base import AuthError, TokenSet, TransientError


def token_set_from_response(data: dict[str, object], *, now: float | None = None) -> TokenSet:
    access = data.get("access_token")
    if not isinstance(access, str) or not access:
        raise AuthError("the token endpoint returned no access_token")
    refresh = data.get("refresh_token")
    expires_in = data.get("expires_in")
    expires_at = None
    if isinstance(expires_in, int | float) and not isinstance(expires_in, bool):
        expires_at = (now if now is not None else time.time()) + float(expires_in)
    return TokenSet(access, refresh if isinstance(refresh, str) and refresh else None, expires_at)


def refresh_access_token(
    base_url: str, refresh_token: str, *, client_id: str | None, timeout_s: float = 10.0
) -> TokenSet:
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    if client_id:
        form["client_id"] = client_id
    try:
        resp = httpx.post(f"{base_url.rstrip('/')}/2/oauth2/token", data=form, timeout=timeout_s)
    except httpx.HTTPError as exc:
        raise TransientError(f"token refresh failed: {type(exc).__name__}", maybe_applied=False) from exc
    if resp.status_code >= 500:
        raise TransientError(f"token refresh failed: HTTP {resp.status_code}", maybe_applied=False)
    if resp.status_code != 200:
        raise AuthError(f"token refresh refused (HTTP {resp.status_code}): reconnect the account")
    try:
        data = resp.json()
    except ValueError as exc:
        raise AuthError("token refresh returned a body that is not JSON") from exc
    if not isinstance(data, dict):
        raise AuthError("token refresh returned a body that is not an object")
    return token_set_from_response(data)
