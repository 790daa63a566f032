"""Logging in: throttled password checks and server-side sessions with a CSRF token."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.domain.errors import NotFound
from flockdesk.services.team import audit
from flockdesk.services.team import users as users_svc
from flockdesk.services.team.users import User
from flockdesk.store.schema import login_attempts, users, web_sessions

MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
SESSION_TTL = timedelta(hours=12)
RESET_MARK = "(password reset)"  # login_attempts.remote_addr of the success row a reset writes


class LoginThrottled(Exception):
    """Too many failed logins for this username from this address."""

    def __init__(self, retry_after_s: int) -> None:
        minutes = max(1, (retry_after_s + 59) // 60)
        super().__init__(
            f"Too many failed sign-in attempts. Wait {minutes} minute(s) and try again, "
            "or ask an admin to reset your password."
        )
        self.retry_after_s = retry_after_s


class LoginFailed(Exception):
    def __init__(self) -> None:
        super().__init__("Wrong username or password (or the account is disabled).")


@dataclass(frozen=True, slots=True)
class Session:
    session_id: str  # sha256 of the cookie value
    user: User
    csrf_token: str
    expires_at: datetime


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _sid(cookie_value: str) -> str:
    return hashlib.sha256(cookie_value.encode()).hexdigest()


def _recent_failures(conn: sa.Connection, username: str, remote_addr: str, now: datetime) -> list[datetime]:
    since = now - FAILURE_WINDOW
    last_ok = conn.execute(
        sa.select(sa.func.max(login_attempts.c.at)).where(
            login_attempts.c.username == username,
            login_attempts.c.remote_addr.in_([remote_addr, RESET_MARK]),  # a reset lifts the throttle
            login_attempts.c.success.is_(True),
            login_attempts.c.at >= since,
        )
    ).scalar()
    q = sa.select(login_attempts.c.at).where(
        login_attempts.c.username == username,
        login_attempts.c.remote_addr == remote_addr,
        login_attempts.c.success.is_(False),
        login_attempts.c.at >= (last_ok if last_ok is not None else since),
    )
    return sorted(_aware(r.at) for r in conn.execute(q))


def login(engine: Engine, username: str, password: str, remote_addr: str = "") -> User:
    """Check a password, recording the attempt. Raises LoginThrottled after MAX_FAILURES failures
    in FAILURE_WINDOW for this username and address (before checking the password), LoginFailed
    when the credentials are wrong."""
    username = username.strip()[:64]
    remote_addr = (remote_addr or "")[:64]
    now = _now()
    with engine.connect() as conn:
        failures = _recent_failures(conn, username, remote_addr, now)
    if len(failures) >= MAX_FAILURES:
        oldest = failures[-MAX_FAILURES]
        retry = int((oldest + FAILURE_WINDOW - now).total_seconds()) + 1
        raise LoginThrottled(max(retry, 1))
    user = users_svc.authenticate(engine, username, password)
    with engine.begin() as conn:
        conn.execute(
            login_attempts.insert().values(
                username=username, remote_addr=remote_addr, success=user is not None, at=now
            )
        )
        _audit_login(conn, user, username, remote_addr)
        conn.execute(login_attempts.delete().where(login_attempts.c.at < now - timedelta(days=7)))
    if user is None:
        raise LoginFailed()
    return user


def _audit_login(conn: sa.Connection, user: User | None, username: str, remote_addr: str) -> None:
    """One audit event per password check: who tried which username from where (never the password)."""
    details = {"username": username, "remote_addr": remote_addr}
    if user is not None:
        audit.record(conn, user.id, user.username, "login.succeeded", "user", user.id, details)
        return
    target = conn.execute(sa.select(users.c.id).where(users.c.username == username)).scalar()
    audit.record(conn, None, "anonymous", "login.failed", "user", target, details)


def create_session(engine: Engine, user_id: int) -> tuple[str, Session]:
    """Start a session; returns the cookie value (kept only by the browser) and the session."""
    cookie = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    now = _now()
    expires = now + SESSION_TTL
    with engine.begin() as conn:
        conn.execute(web_sessions.delete().where(web_sessions.c.expires_at < now))
        conn.execute(
            web_sessions.insert().values(
                id=_sid(cookie), user_id=user_id, csrf_token=csrf, created_at=now, expires_at=expires
            )
        )
    user = users_svc.get_user(engine, user_id)
    assert user is not None
    return cookie, Session(_sid(cookie), user, csrf, expires)


def get_session(engine: Engine, cookie_value: str) -> Session | None:
    """The live session for a cookie value, with its (active) user; None when absent or expired."""
    if not cookie_value:
        return None
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(web_sessions, users)
            .join(users, users.c.id == web_sessions.c.user_id)
            .where(web_sessions.c.id == _sid(cookie_value))
        ).first()
    if row is None:
        return None
    m = row._mapping
    if _aware(m["expires_at"]) < _now() or not m["active"]:
        return None
    user = User(m["user_id"], m["username"], m["name"] or "", m["email"], m["role"], True)
    return Session(m[web_sessions.c.id], user, m["csrf_token"], _aware(m["expires_at"]))


def logout(engine: Engine, cookie_value: str) -> None:
    with engine.begin() as conn:
        conn.execute(web_sessions.delete().where(web_sessions.c.id == _sid(cookie_value)))


def logout_user_everywhere(engine: Engine, user_id: int) -> None:
    with engine.begin() as conn:
        conn.execute(web_sessions.delete().where(web_sessions.c.user_id == user_id))


def reset_password(engine: Engine, user_id: int, password: str, *, actor_id: int | None = None) -> User:
    """Set a new password (an admin's reset, or `flockdesk users set-password` with actor_id None):
    signs the user out everywhere, revokes all their API tokens, lifts a login throttle and writes
    an audit event, in one transaction. Raises UserError (short password, no such user)."""
    users_svc.check_password(password)
    password_hash = users_svc.hash_password(password)
    with engine.begin() as conn:
        actor = audit.admin_actor(conn, actor_id)
        username = conn.execute(sa.select(users.c.username).where(users.c.id == user_id)).scalar()
        if username is None:
            raise NotFound(f"no user with id {user_id}; see `flockdesk users list`")
        revoked = users_svc.change_password(conn, user_id, password_hash)
        conn.execute(
            login_attempts.insert().values(username=username, remote_addr=RESET_MARK, success=True, at=_now())
        )
        audit.record(
            conn,
            actor_id,
            actor,
            "user.password_reset",
            "user",
            user_id,
            {"username": username, "tokens_revoked": revoked},
        )
    user = users_svc.get_user(engine, user_id)
    assert user is not None
    return user
