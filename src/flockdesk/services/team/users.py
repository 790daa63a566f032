"""Users of the web app: argon2 password hashes, roles, and per-user API tokens (stored hashed).

Every admin action here (create, disable/enable, role, password, tokens) writes an audit event in the
same transaction; `actor_id` is the acting user, None for the command line (recorded as "cli").
A password change and disabling a user revoke every session and API token of that user.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Engine

from flockdesk.domain.errors import UserError
from flockdesk.domain.vocabulary import ROLE_RANK, ROLES
from flockdesk.services.team import audit
from flockdesk.store.db import try_write
from flockdesk.store.schema import api_tokens, users, web_sessions

log = logging.getLogger(__name__)

_HASHER = PasswordHasher()
TOKEN_PREFIX = "fdk_"  # noqa: S105 (a prefix, not a secret)
MIN_PASSWORD = 8
# A token's last_used_at is rewritten at most this often: a read-only API call then usually writes
# nothing, and never waits for the write lock.
TOKEN_USAGE_RESOLUTION = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    name: str
    email: str | None
    role: str
    active: bool

    def has_role(self, minimum: str) -> bool:
        """True when this user's role is at least `minimum` (agent < manager < admin)."""
        return ROLE_RANK.get(self.role, -1) >= ROLE_RANK[minimum]

    @property
    def first_name(self) -> str:
        return (self.name or self.username).split()[0] if (self.name or self.username) else ""


@dataclass(frozen=True, slots=True)
class ApiToken:
    id: int
    label: str
    created_at: datetime
    last_used_at: datetime | None


def _now() -> datetime:
    return datetime.now(UTC)


def _row_user(row: sa.Row[Any]) -> User:
    m = row._mapping
    return User(m["id"], m["username"], m["name"] or "", m["email"], m["role"], bool(m["active"]))


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _check(username: str, password: str, role: str) -> str:
    username = username.strip()
    if not username or len(username) > 64 or any(c.isspace() for c in username):
        raise UserError("username must be 1-64 characters without spaces")
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)} (got {role!r})")
    if len(password) < MIN_PASSWORD:
        raise UserError(f"password must be at least {MIN_PASSWORD} characters")
    return username


def create_user(
    engine: Engine,
    username: str,
    password: str,
    role: str,
    *,
    name: str = "",
    email: str | None = None,
    actor_id: int | None = None,
) -> User:
    """Create an active user; raises UserError for a bad role, short password or taken username."""
    username = _check(username, password, role)
    password_hash = hash_password(password)
    try:
        with engine.begin() as conn:
            actor = audit.admin_actor(conn, actor_id)
            taken = conn.execute(sa.select(users.c.id).where(users.c.username == username)).first()
            if taken:
                raise UserError(f"username {username!r} is taken; choose another")
            uid = conn.execute(
                users.insert()
                .values(
                    username=username,
                    name=name.strip(),
                    email=email,
                    password_hash=password_hash,
                    role=role,
                    active=True,
                    created_at=_now(),
                )
                .returning(users.c.id)
            ).scalar_one()
            audit.record(
                conn, actor_id, actor, "user.create", "user", uid, {"username": username, "role": role}
            )
    except sa.exc.IntegrityError:
        raise UserError(f"username {username!r} is taken; choose another") from None
    return User(int(uid), username, name.strip(), email, role, True)


def get_user(engine: Engine, user_id: int) -> User | None:
    with engine.connect() as conn:
        row = conn.execute(sa.select(users).where(users.c.id == user_id)).first()
    return _row_user(row) if row else None


def get_user_by_username(engine: Engine, username: str) -> User | None:
    with engine.connect() as conn:
        row = conn.execute(sa.select(users).where(users.c.username == username.strip())).first()
    return _row_user(row) if row else None


def list_users(engine: Engine, *, active_only: bool = False) -> list[User]:
    q = sa.select(users).order_by(users.c.username)
    if active_only:
        q = q.where(users.c.active.is_(True))
    with engine.connect() as conn:
        return [_row_user(r) for r in conn.execute(q)]


def revoke_credentials(conn: sa.Connection, user_id: int) -> int:
    """Sign the user out everywhere and revoke all their API tokens, in the caller's transaction;
    returns how many tokens were revoked."""
    conn.execute(web_sessions.delete().where(web_sessions.c.user_id == user_id))
    return int(
        conn.execute(
            api_tokens.update()
            .where(api_tokens.c.user_id == user_id, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=_now())
        ).rowcount
    )


def set_active(engine: Engine, user_id: int, active: bool, *, actor_id: int | None = None) -> None:
    """Disable (or re-enable) a user; a disabled user cannot log in or use API tokens. Both changes
    revoke the user's sessions and tokens, so re-enabling revives none issued before (even ones kept
    from before revocation existed). Setting the state a user already has does nothing."""
    with engine.begin() as conn:
        actor = audit.admin_actor(conn, actor_id)
        row = conn.execute(sa.select(users.c.username, users.c.active).where(users.c.id == user_id)).first()
        if row is None:
            raise UserError(f"no user with id {user_id}; see `flockdesk users list`")
        if bool(row.active) == active:
            return  # nothing changes: an active user's sessions stay signed in
        conn.execute(users.update().where(users.c.id == user_id).values(active=active))
        revoked = revoke_credentials(conn, user_id)
        audit.record(
            conn,
            actor_id,
            actor,
            "user.enable" if active else "user.disable",
            "user",
            user_id,
            {"username": row.username, "tokens_revoked": revoked},
        )


def disable_user(engine: Engine, user_id: int, *, actor_id: int | None = None) -> None:
    set_active(engine, user_id, False, actor_id=actor_id)


def set_role(engine: Engine, user_id: int, role: str, *, actor_id: int | None = None) -> User:
    """Change a user's role; the last active admin cannot be demoted. Raises UserError."""
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)} (got {role!r})")
    with engine.begin() as conn:
        actor = audit.admin_actor(conn, actor_id)
        row = conn.execute(sa.select(users).where(users.c.id == user_id)).first()
        if row is None:
            raise UserError(f"no user with id {user_id}; see `flockdesk users list`")
        before = row._mapping["role"]
        if before == role:
            return _row_user(row)
        if before == "admin" and row._mapping["active"]:
            admins = conn.execute(
                sa.select(sa.func.count()).where(users.c.role == "admin", users.c.active.is_(True))
            ).scalar_one()
            if admins <= 1:
                raise UserError("this is the only active admin: make another user admin first")
        conn.execute(users.update().where(users.c.id == user_id).values(role=role))
        audit.record(
            conn,
            actor_id,
            actor,
            "user.role_change",
            "user",
            user_id,
            {"username": row._mapping["username"], "from": before, "to": role},
        )
        row = conn.execute(sa.select(users).where(users.c.id == user_id)).one()
    return _row_user(row)


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"password must be at least {MIN_PASSWORD} characters")


def change_password(conn: sa.Connection, user_id: int, password_hash: str) -> int:
    """Store a new password hash and revoke the user's sessions and API tokens, in the caller's
    transaction; returns how many tokens were revoked."""
    conn.execute(users.update().where(users.c.id == user_id).values(password_hash=password_hash))
    return revoke_credentials(conn, user_id)


def set_password(engine: Engine, user_id: int, password: str) -> None:
    """Set a password without an audit event or throttle reset (the demo's own admin); it still
    revokes the user's sessions and tokens. Admin resets go through sessions.reset_password."""
    check_password(password)
    password_hash = hash_password(password)
    with engine.begin() as conn:
        change_password(conn, user_id, password_hash)


def authenticate(engine: Engine, username: str, password: str) -> User | None:
    """The active user with this username and password, else None (same cost either way)."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(users).where(users.c.username == username.strip())).first()
    if row is None:
        verify_password(_DUMMY_HASH, password)
        return None
    if not verify_password(row._mapping["password_hash"], password) or not row._mapping["active"]:
        return None
    return _row_user(row)


_DUMMY_HASH = _HASHER.hash("flockdesk-dummy-password")


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(engine: Engine, user_id: int, label: str = "") -> str:
    """Create a token for the (active) user, who is the actor, and return its plain value (shown
    once; only the hash is stored)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    label = label.strip()[:100]
    with engine.begin() as conn:
        actor = audit.actor_name(conn, user_id)
        token_id = conn.execute(
            api_tokens.insert()
            .values(user_id=user_id, token_hash=_token_hash(token), label=label, created_at=_now())
            .returning(api_tokens.c.id)
        ).scalar_one()
        audit.record(conn, user_id, actor, "api_token.create", "api_token", token_id, {"label": label})
    return token


def list_api_tokens(engine: Engine, user_id: int) -> list[ApiToken]:
    """The user's live tokens (revoked ones are kept for the audit trail but not listed)."""
    q = (
        sa.select(api_tokens)
        .where(api_tokens.c.user_id == user_id, api_tokens.c.revoked_at.is_(None))
        .order_by(api_tokens.c.id)
    )
    with engine.connect() as conn:
        return [ApiToken(r.id, r.label, r.created_at, r.last_used_at) for r in conn.execute(q)]


def revoke_api_token(engine: Engine, user_id: int, token_id: int) -> bool:
    """The owner revokes one of their tokens; False when it is not theirs or already revoked."""
    with engine.begin() as conn:
        actor = audit.actor_name(conn, user_id)
        row = conn.execute(
            api_tokens.update()
            .where(
                api_tokens.c.id == token_id,
                api_tokens.c.user_id == user_id,
                api_tokens.c.revoked_at.is_(None),
            )
            .values(revoked_at=_now())
            .returning(api_tokens.c.label)
        ).first()
        if row is None:
            return False
        audit.record(conn, user_id, actor, "api_token.revoke", "api_token", token_id, {"label": row.label})
    return True


def user_for_token(engine: Engine, token: str) -> User | None:
    """The active user owning this live API token, else None. Records when the token was last used,
    at most every TOKEN_USAGE_RESOLUTION and only when the store is not busy: the lookup itself only
    reads, so a read-only API call never waits for (or fails on) another writer's lock."""
    h = _token_hash(token.strip())
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(users, api_tokens.c.id.label("token_id"), api_tokens.c.last_used_at)
            .join(api_tokens, api_tokens.c.user_id == users.c.id)
            .where(
                api_tokens.c.token_hash == h,
                api_tokens.c.revoked_at.is_(None),
                users.c.active.is_(True),
            )
        ).first()
    if row is None:
        return None
    now = _now()
    last_used = row.last_used_at
    if last_used is None or now - last_used >= TOKEN_USAGE_RESOLUTION:
        stamp = (
            api_tokens.update()
            .where(
                api_tokens.c.id == row.token_id,
                sa.or_(
                    api_tokens.c.last_used_at.is_(None),
                    api_tokens.c.last_used_at < now - TOKEN_USAGE_RESOLUTION,
                ),
            )
            .values(last_used_at=now)
        )
        try:
            try_write(engine, stamp)
        except sa.exc.SQLAlchemyError:
            # the stamp is informational: losing one must never fail the request
            log.warning("could not record the use of API token %s", row.token_id, exc_info=True)
    return _row_user(row)
