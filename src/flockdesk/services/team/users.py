"""Users of the web app: argon2 password hashes, roles, and per-user API tokens (stored hashed)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Engine

from flockdesk.domain.errors import UserError
from flockdesk.domain.vocabulary import ROLE_RANK, ROLES
from flockdesk.store.schema import api_tokens, users

_HASHER = PasswordHasher()
TOKEN_PREFIX = "fdk_"  # noqa: S105 (a prefix, not a secret)
MIN_PASSWORD = 8


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


def _row_user(row: sa.Row) -> User:
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
    engine: Engine, username: str, password: str, role: str, *, name: str = "", email: str | None = None
) -> User:
    """Create an active user; raises UserError for a bad role, short password or taken username."""
    username = _check(username, password, role)
    try:
        with engine.begin() as conn:
            taken = conn.execute(sa.select(users.c.id).where(users.c.username == username)).first()
            if taken:
                raise UserError(f"username {username!r} is taken; choose another")
            uid = conn.execute(
                users.insert()
                .values(
                    username=username,
                    name=name.strip(),
                    email=email,
                    password_hash=hash_password(password),
                    role=role,
                    active=True,
                    created_at=_now(),
                )
                .returning(users.c.id)
            ).scalar_one()
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


def set_active(engine: Engine, user_id: int, active: bool) -> None:
    """Disable (or re-enable) a user; a disabled user cannot log in or use API tokens."""
    with engine.begin() as conn:
        n = conn.execute(users.update().where(users.c.id == user_id).values(active=active)).rowcount
    if not n:
        raise UserError(f"no user with id {user_id}")


def disable_user(engine: Engine, user_id: int) -> None:
    set_active(engine, user_id, False)


def set_password(engine: Engine, user_id: int, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"password must be at least {MIN_PASSWORD} characters")
    with engine.begin() as conn:
        conn.execute(
            users.update().where(users.c.id == user_id).values(password_hash=hash_password(password))
        )


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
    """Create a token for the user and return its plain value (shown once; only the hash is stored)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with engine.begin() as conn:
        conn.execute(
            api_tokens.insert().values(
                user_id=user_id, token_hash=_token_hash(token), label=label.strip()[:100], created_at=_now()
            )
        )
    return token


def list_api_tokens(engine: Engine, user_id: int) -> list[ApiToken]:
    q = sa.select(api_tokens).where(api_tokens.c.user_id == user_id).order_by(api_tokens.c.id)
    with engine.connect() as conn:
        return [ApiToken(r.id, r.label, r.created_at, r.last_used_at) for r in conn.execute(q)]


def revoke_api_token(engine: Engine, user_id: int, token_id: int) -> bool:
    with engine.begin() as conn:
        n = conn.execute(
            api_tokens.delete().where(api_tokens.c.id == token_id, api_tokens.c.user_id == user_id)
        ).rowcount
    return bool(n)


def user_for_token(engine: Engine, token: str) -> User | None:
    """The active user owning this API token, else None; records when the token was last used."""
    h = _token_hash(token.strip())
    with engine.begin() as conn:
        row = conn.execute(
            sa.select(users, api_tokens.c.id.label("token_id"))
            .join(api_tokens, api_tokens.c.user_id == users.c.id)
            .where(api_tokens.c.token_hash == h, users.c.active.is_(True))
        ).first()
        if row is None:
            return None
        conn.execute(api_tokens.update().where(api_tokens.c.id == row.token_id).values(last_used_at=_now()))
    return _row_user(row)
