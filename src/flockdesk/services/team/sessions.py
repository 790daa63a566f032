"""Logging in: throttled password checks and server-side sessions with a CSRF token."""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.domain.errors import NotFound
from flockdesk.services.team import audit
from flockdesk.services.team import users as users_svc
from flockdesk.services.team.users import User
from flockdesk.store.dialect import upsert
from flockdesk.store.schema import login_attempts, login_throttle, users, web_sessions

MAX_FAILURES = 5  # per username from one address
MAX_USER_FAILURES = 20  # per username from all addresses together
MAX_ADDRESS_FAILURES = 50  # per address for all usernames together
FAILURE_WINDOW = timedelta(minutes=15)
SESSION_TTL = timedelta(hours=12)
RESET_MARK = "(password reset)"  # login_attempts.remote_addr of the history row a reset writes


class LoginThrottled(Exception):
    """Too many failed logins for this username (from this address or from all) or from this address."""

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


def _sid(cookie_value: str) -> str:
    return hashlib.sha256(cookie_value.encode()).hexdigest()


def _address_key(remote_addr: str) -> str:
    """The throttle's key for an address: IPv6 clients are counted per /64, the block one host gets."""
    try:
        ip = ipaddress.ip_address(remote_addr)
    except ValueError:
        return remote_addr
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _throttle_keys(username: str, remote_addr: str) -> list[tuple[str, str, str, int]]:
    """(scope, username, address, limit) in one fixed order, so concurrent logins lock rows alike."""
    addr = _address_key(remote_addr)
    return [
        ("user", username, "", MAX_USER_FAILURES),
        ("addr", "", addr, MAX_ADDRESS_FAILURES),
        ("pair", username, addr, MAX_FAILURES),
    ]


def _reserve_attempt(engine: Engine, keys: list[tuple[str, str, str, int]], now: datetime) -> None:
    """Count this attempt as a failure on every key before the password is checked, in one transaction
    of single-statement increments: concurrent guesses (threads or web processes) each see the count
    with the others included. Raises LoginThrottled, counting nothing, when a key is over its limit."""
    since = now - FAILURE_WINDOW
    t = login_throttle.c
    stale = t.window_start < sa.bindparam("since", since, type_=t.window_start.type)
    now_param = sa.bindparam("now", now, type_=t.window_start.type)
    waits: list[int] = []
    with engine.begin() as conn:
        for scope, username, addr, limit in keys:
            stmt = (
                upsert(conn, login_throttle)
                .values(scope=scope, username=username, remote_addr=addr, window_start=now, failures=1)
                .on_conflict_do_update(
                    index_elements=["scope", "username", "remote_addr"],
                    set_={
                        "failures": sa.case((stale, 1), else_=t.failures + 1),
                        "window_start": sa.case((stale, now_param), else_=t.window_start),
                    },
                )
                .returning(t.failures, t.window_start)
            )
            failures, start = conn.execute(stmt).one()
            if failures > limit:
                waits.append(int((start + FAILURE_WINDOW - now).total_seconds()) + 1)
        if waits:
            raise LoginThrottled(max(1, max(waits)))  # rolls the increments back


def _release_attempt(engine: Engine, keys: list[tuple[str, str, str, int]], now: datetime) -> None:
    """A correct password: the reserved attempt was no failure. The username's failures from this
    address are forgotten; the totals per username and per address just lose this attempt."""
    t = login_throttle.c
    with engine.begin() as conn:
        for scope, username, addr, _limit in keys:
            match = (t.scope == scope, t.username == username, t.remote_addr == addr)
            if scope == "pair":
                conn.execute(login_throttle.delete().where(*match))
            else:
                conn.execute(
                    login_throttle.update().where(*match, t.failures > 0).values(failures=t.failures - 1)
                )


def login(engine: Engine, username: str, password: str, remote_addr: str = "") -> User:
    """Check a password, recording the attempt. Raises LoginThrottled (without checking the password)
    once MAX_FAILURES failures for this username from this address, MAX_USER_FAILURES for this
    username from all addresses or MAX_ADDRESS_FAILURES from this address were counted in
    FAILURE_WINDOW; LoginFailed when the credentials are wrong."""
    username = username.strip()[:64]
    remote_addr = (remote_addr or "")[:64]
    now = _now()
    keys = _throttle_keys(username, remote_addr)
    _reserve_attempt(engine, keys, now)
    user = users_svc.authenticate(engine, username, password)
    if user is not None:
        _release_attempt(engine, keys, now)
    with engine.begin() as conn:
        conn.execute(
            login_attempts.insert().values(
                username=username, remote_addr=remote_addr, success=user is not None, at=now
            )
        )
        _audit_login(conn, user, username, remote_addr)
        conn.execute(login_attempts.delete().where(login_attempts.c.at < now - timedelta(days=7)))
        conn.execute(login_throttle.delete().where(login_throttle.c.window_start < now - FAILURE_WINDOW))
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
    if m["expires_at"] < _now() or not m["active"]:
        return None
    user = User(m["user_id"], m["username"], m["name"] or "", m["email"], m["role"], True)
    return Session(m[web_sessions.c.id], user, m["csrf_token"], m["expires_at"])


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
        conn.execute(login_throttle.delete().where(login_throttle.c.username == username))
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
