"""The audit log: who did what, to what, and when. Every user-visible write records one event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from flockdesk.domain.errors import NotAllowed
from flockdesk.domain.utc import as_utc, utcnow
from flockdesk.store.schema import audit_events, users


@dataclass(frozen=True, slots=True)
class AuditEvent:
    id: int
    at: datetime
    actor_user_id: int | None
    actor: str
    action: str
    target_type: str | None
    target_id: str | None
    details: dict[str, Any] | None


def record(
    conn: Connection,
    actor_user_id: int | None,
    actor: str,
    action: str,
    target_type: str | None,
    target_id: str | int | None,
    details: dict[str, Any] | None = None,
    *,
    at: datetime | None = None,
) -> int:
    """Write one event inside the caller's transaction; returns its id."""
    result = conn.execute(
        audit_events.insert().values(
            at=as_utc(at) if at else utcnow(),
            actor_user_id=actor_user_id,
            actor=actor,
            action=action,
            target_type=target_type,
            target_id=None if target_id is None else str(target_id),
            details=details,
        )
    )
    pk = result.inserted_primary_key
    assert pk is not None
    return int(pk[0])


def list_events(
    engine: Engine,
    *,
    actor_user_id: int | None = None,
    action: str | None = None,
    target_type: str | None = None,
    target_id: str | int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> list[AuditEvent]:
    """Events newest first, filtered; page on with before_id=<id of the last event seen>."""
    t = audit_events
    q = sa.select(t).order_by(t.c.id.desc()).limit(max(1, min(limit, 1000)))
    if actor_user_id is not None:
        q = q.where(t.c.actor_user_id == actor_user_id)
    if action is not None:
        q = q.where(t.c.action == action)
    if target_type is not None:
        q = q.where(t.c.target_type == target_type)
    if target_id is not None:
        q = q.where(t.c.target_id == str(target_id))
    if since is not None:
        q = q.where(t.c.at >= as_utc(since))
    if until is not None:
        q = q.where(t.c.at < as_utc(until))
    if before_id is not None:
        q = q.where(t.c.id < before_id)
    with engine.connect() as conn:
        rows = conn.execute(q).mappings().all()
    return [
        AuditEvent(
            id=r["id"],
            at=r["at"],
            actor_user_id=r["actor_user_id"],
            actor=r["actor"],
            action=r["action"],
            target_type=r["target_type"],
            target_id=r["target_id"],
            details=r["details"],
        )
        for r in rows
    ]


MANAGERS = ("admin", "manager")
CLI = "cli"  # the actor of an admin action run from the command line (`flockdesk users ...`)


def _active_user(conn: Connection, user_id: int) -> Any:
    row = conn.execute(
        sa.select(users.c.username, users.c.role, users.c.active).where(users.c.id == user_id)
    ).first()
    if row is None or not row.active:
        raise NotAllowed(f"user {user_id} does not exist or is disabled; sign in as an active user")
    return row


def actor_name(conn: Connection, user_id: int | None) -> str:
    """The username to record for a user id ("system" when None); raises NotAllowed if unknown."""
    if user_id is None:
        return "system"
    return str(_active_user(conn, user_id).username)


def admin_actor(conn: Connection, user_id: int | None) -> str:
    """The actor to record for an admin action: the acting user's name, or "cli" when None (the
    command line acts as no user). Raises NotAllowed for an unknown or disabled user."""
    return CLI if user_id is None else str(_active_user(conn, user_id).username)


def manager_name(conn: Connection, user_id: int, doing: str) -> str:
    """actor_name for a manager or admin; anyone else gets "only managers and admins can <doing>"."""
    row = _active_user(conn, user_id)
    if row.role not in MANAGERS:
        raise NotAllowed(f"only managers and admins can {doing}")
    return str(row.username)
