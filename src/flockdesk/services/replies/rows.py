"""Outbox rows as the reply services see them: the row type, lookups by id and idempotency key,
queueing through the outbox (services/replies/outbox.py `enqueue`, the one way a row is made), and the
retry of a transaction that lost an idempotency-key race. Shared by replies.py and move_to_dm.py.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from flockdesk.domain.errors import InvalidInput, NotFound
from flockdesk.domain.vocabulary import OutboxOrigin
from flockdesk.services.replies.checks import check_dict
from flockdesk.services.replies.outbox import enqueue
from flockdesk.services.team import audit
from flockdesk.store.schema import outbox

T = TypeVar("T")

DEFAULT_ACK = (
    "Thanks for reaching out! We'd like to help with this privately. Please send us a DM here: {link}"
)


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    idempotency_key: str
    account_id: int
    conversation_id: int | None
    kind: str
    text: str
    in_reply_to_external_id: str | None
    recipient_external_id: str | None
    status: str
    attempts: int
    error: str | None
    external_id: str | None
    created_by: int | None
    created_at: datetime | None
    sent_at: datetime | None
    origin: str = "agent"
    claimed_at: datetime | None = None  # a native reply: when the person said they posted it
    transport: str | None = None  # for a DM: legacy | xchat
    quick_reply: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class MoveToDm:
    ack: OutboxRow
    dm_conversation_id: int
    dm: OutboxRow | None


def _row(r: Any) -> OutboxRow:
    return OutboxRow(
        r["id"],
        r["idempotency_key"],
        r["account_id"],
        r["conversation_id"],
        r["kind"],
        r["text"],
        r["in_reply_to_external_id"],
        r["recipient_external_id"],
        r["status"],
        r["attempts"],
        r["error"],
        r["external_id"],
        r["created_by"],
        r["created_at"],
        r["sent_at"],
        r["origin"],
        r["claimed_at"],
        r["transport"],
        r["quick_reply"],
    )


def row_by_id(conn: Connection, outbox_id: int) -> OutboxRow:
    r = conn.execute(sa.select(outbox).where(outbox.c.id == outbox_id)).mappings().first()
    if r is None:
        raise NotFound(f"outbox row {outbox_id} does not exist")
    return _row(r)


def get_outbox(engine: Engine, outbox_id: int) -> OutboxRow:
    with engine.connect() as conn:
        return row_by_id(conn, outbox_id)


def by_key(conn: Connection, key: str) -> OutboxRow | None:
    r = conn.execute(sa.select(outbox).where(outbox.c.idempotency_key == key)).mappings().first()
    return _row(r) if r else None


def insert(
    conn: Connection,
    *,
    key: str,
    user_id: int | None,
    ctx: dict[str, Any],
    kind: str,
    text: str,
    in_reply_to: str | None = None,
    recipient: str | None = None,
    conversation_id: int,
    origin: OutboxOrigin = "agent",
    transport: str | None = None,
    quick_reply: dict[str, Any] | None = None,
) -> OutboxRow:
    """Queue one row in this transaction (outbox.enqueue) and return it."""
    new_id = enqueue(
        conn,
        idempotency_key=key,
        account_id=ctx["account_id"],
        conversation_id=conversation_id,
        kind=kind,
        text=text,
        in_reply_to=in_reply_to,
        recipient=recipient,
        created_by=user_id,
        origin=origin,
        transport=transport,
        quick_reply=quick_reply,
    )
    return row_by_id(conn, new_id)


def audit_override(
    conn: Connection, user_id: int, actor: str, row: OutboxRow, conversation_id: int, check: Any
) -> None:
    """Record that the agent sent past a reply-guard flag (no-op when nothing was flagged)."""
    if check is None:
        return
    audit.record(
        conn,
        user_id,
        actor,
        "reply.guard_override",
        "outbox",
        row.id,
        {"conversation_id": conversation_id, "check": check_dict(check)},
    )


def derived_key(*parts: object) -> str:
    return "auto:" + hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()


def clean_key(key: str | None) -> str | None:
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > 100:
        raise InvalidInput("the idempotency key must be 1-100 characters")
    return key


def with_retry_on_race(engine: Engine, fn: Callable[[Connection], T]) -> T:
    """Run fn in a transaction; if a concurrent request inserted the same idempotency key first (unique
    violation), run it once more: the second run finds that row and hands it back."""
    try:
        with engine.begin() as conn:
            return fn(conn)
    except IntegrityError:
        with engine.begin() as conn:
            return fn(conn)
