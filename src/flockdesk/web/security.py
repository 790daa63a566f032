"""Who is asking: sessions, API tokens, roles, CSRF and security headers for every response."""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from flockdesk.services.team import sessions as auth_svc
from flockdesk.services.team import users as users_svc
from flockdesk.services.team.users import User
from flockdesk.settings import IPNetwork, Settings

SESSION_COOKIE = "fd_session"
PRELOGIN_COOKIE = "fd_prelogin_csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
BEARER_REFUSED = "Invalid or revoked API token. Create one on your profile page."

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


@dataclass(slots=True)
class WebContext:
    settings: Settings
    engine: Engine
    templates: Jinja2Templates


class LoginRequired(Exception):
    """A browser request without a session: the handler redirects to /login."""


class Forbidden(Exception):
    def __init__(self, message: str = "You do not have access to this page.") -> None:
        super().__init__(message)


class ApiAuthError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class CsrfError(Exception):
    pass


class SecurityHeadersMiddleware:
    """Adds CSP, nosniff, referrer and framing headers to every response (pure ASGI), and
    `Cache-Control: no-store` to everything but static assets, so no signed-in page or API answer
    stays in a shared or back-button cache."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        cacheable = str(scope.get("path", "")).startswith("/static/")

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                headers = list(message.get("headers", []))
                headers += [(k, v) for k, v in SECURITY_HEADERS if k not in names]
                if not cacheable and b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_wrapper)


def web(request: Request) -> WebContext:
    return request.app.state.web  # type: ignore[no-any-return]


def _trusted(addr: str, proxies: tuple[IPNetwork, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(addr.strip())
    except ValueError:
        return False
    return any(ip in net for net in proxies)


def client_address(peer: str, forwarded_for: list[str], proxies: tuple[IPNetwork, ...]) -> str:
    """The address a request came from. X-Forwarded-For counts only when the peer is a trusted proxy;
    then the hops are read from the right (each proxy appends the address it saw) and the first one
    that is not itself a trusted proxy is the client, so a hop the client wrote itself is never used."""
    if not _trusted(peer, proxies):
        return peer
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",") if hop.strip()]
    addr = peer
    for hop in reversed(hops):
        addr = hop
        if not _trusted(hop, proxies):
            break
    return addr


def _from_trusted_proxy(request: Request) -> bool:
    peer = request.client.host if request.client else ""
    return _trusted(peer, web(request).settings.trusted_proxy_networks())


def is_https(request: Request) -> bool:
    if request.url.scheme == "https":
        return True
    proto = request.headers.get("x-forwarded-proto", "").split(",")[-1].strip()
    return proto == "https" and _from_trusted_proxy(request)


def cookie_secure(request: Request) -> bool:
    return bool(web(request).settings.secure_cookies) or is_https(request)


def remote_addr(request: Request) -> str:
    """The client's address, through the proxies listed in the trusted_proxies setting only."""
    peer = request.client.host if request.client else ""
    return client_address(
        peer, request.headers.getlist("x-forwarded-for"), web(request).settings.trusted_proxy_networks()
    )


async def current_session(request: Request) -> auth_svc.Session | None:
    """The cookie session; None also when the request sends a bearer token (such a request is
    authenticated by the token or not at all, never by a cookie that happens to ride along)."""
    if "fd_session_obj" in request.scope:
        return request.scope["fd_session_obj"]  # type: ignore[no-any-return]
    cookie = request.cookies.get(SESSION_COOKIE, "") if _bearer(request) is None else ""
    sess = await run_in_threadpool(auth_svc.get_session, web(request).engine, cookie) if cookie else None
    request.scope["fd_session_obj"] = sess
    return sess


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return None


async def bearer_user(request: Request) -> User | None:
    """The live user of the request's bearer token; None without a header or for a bad token."""
    if "fd_bearer_user" not in request.scope:
        token = _bearer(request)
        request.scope["fd_bearer_user"] = (
            await run_in_threadpool(users_svc.user_for_token, web(request).engine, token)
            if token is not None
            else None
        )
    return request.scope["fd_bearer_user"]  # type: ignore[no-any-return]


async def _check_csrf(request: Request, expected: str) -> None:
    sent = request.headers.get("x-csrf-token")
    if not sent:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get("csrf_token")
            sent = value if isinstance(value, str) else None
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        raise CsrfError("Missing or stale security token. Reload the page and try again.")


async def csrf_protect(request: Request) -> None:
    """App-wide dependency: every state-changing browser request carries the session's CSRF token
    (form field `csrf_token` or header `X-CSRF-Token`). Exempt: requests authenticated by a valid bearer
    token (a browser never adds one by itself, and such requests never use the cookie session)."""
    if request.method in SAFE_METHODS or await bearer_user(request) is not None:
        return
    sess = await current_session(request)
    if sess is not None:
        await _check_csrf(request, sess.csrf_token)
    else:
        await _check_csrf(request, request.cookies.get(PRELOGIN_COOKIE, ""))


async def api_csrf_protect(request: Request) -> None:
    """The API's CSRF dependency: a bad bearer token is a 401 that says so, not a CSRF 403."""
    if _bearer(request) is not None and await bearer_user(request) is None:
        raise ApiAuthError(401, BEARER_REFUSED)
    await csrf_protect(request)


def new_prelogin_token() -> str:
    return secrets.token_urlsafe(24)


async def page_user(request: Request) -> User:
    sess = await current_session(request)
    if sess is None:
        raise LoginRequired()
    return sess.user


def page_role(minimum: str) -> Any:
    async def dep(user: User = Depends(page_user)) -> User:
        if not user.has_role(minimum):
            raise Forbidden(f"This page is for {minimum}s only. Ask an admin if you need access.")
        return user

    return dep


async def api_user(request: Request) -> User:
    if _bearer(request) is not None:
        user = await bearer_user(request)
        if user is None:
            raise ApiAuthError(401, BEARER_REFUSED)
        return user
    sess = await current_session(request)
    if sess is None:
        raise ApiAuthError(401, "Authentication required: send 'Authorization: Bearer <API token>'.")
    return sess.user


def api_role(minimum: str) -> Any:
    async def dep(user: User = Depends(api_user)) -> User:
        if not user.has_role(minimum):
            raise ApiAuthError(403, f"This endpoint needs the {minimum} role.")
        return user

    return dep
