"""Who is asking: sessions, API tokens, roles, CSRF and security headers for every response."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Request
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from flockdesk.services.team import sessions as auth_svc
from flockdesk.services.team import users as users_svc
from flockdesk.services.team.users import User
from flockdesk.settings import Settings

SESSION_COOKIE = "fd_session"
PRELOGIN_COOKIE = "fd_prelogin_csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

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
    templates: Any


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
    """Adds CSP, nosniff, referrer and framing headers to every response (pure ASGI)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                headers = list(message.get("headers", []))
                headers += [(k, v) for k, v in SECURITY_HEADERS if k not in names]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_wrapper)


def web(request: Request) -> WebContext:
    return request.app.state.web  # type: ignore[no-any-return]


def is_https(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "") == "https"


def cookie_secure(request: Request) -> bool:
    return bool(web(request).settings.secure_cookies) or is_https(request)


def remote_addr(request: Request) -> str:
    return request.client.host if request.client else ""


async def current_session(request: Request) -> auth_svc.Session | None:
    if "fd_session_obj" in request.scope:
        return request.scope["fd_session_obj"]  # type: ignore[no-any-return]
    cookie = request.cookies.get(SESSION_COOKIE, "")
    sess = await run_in_threadpool(auth_svc.get_session, web(request).engine, cookie) if cookie else None
    request.scope["fd_session_obj"] = sess
    return sess


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return None


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
    (form field `csrf_token` or header `X-CSRF-Token`); bearer-token API calls are exempt."""
    if request.method in SAFE_METHODS or _bearer(request) is not None:
        return
    sess = await current_session(request)
    if sess is not None:
        await _check_csrf(request, sess.csrf_token)
    else:
        await _check_csrf(request, request.cookies.get(PRELOGIN_COOKIE, ""))


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
    token = _bearer(request)
    if token is not None:
        user = await run_in_threadpool(users_svc.user_for_token, web(request).engine, token)
        if user is None:
            raise ApiAuthError(401, "Invalid or revoked API token. Create one on your profile page.")
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
