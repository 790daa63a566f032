"""Applies the conversation state machine (domain/conversation_state.py) to the store and keeps its
history: every change writes the changed columns and one `conversation_events` row, in the caller's
transaction, so a state and its history never disagree.

Ingest, which changes thousands of conversations per page, computes the transitions itself and hands
the history rows to `record_many` (one executemany per page); everything else calls `apply`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from flockdesk.domain.conversation_state import NEW, ConversationState
from flockdesk.domain.errors import conversation_not_found
from flockdesk.domain.utc import utcnow
from flockdesk.domain.vocabulary import ConversationEventKind
from flockdesk.store.bulk import bulk_insert
from flockdesk.store.schema import conversation_events, conversations

Transition = Callable[[ConversationState], ConversationState]
_STATE_COLUMNS = (
    conversations.c.status,
    conversations.c.last_message_at,
    conversations.c.waiting_since,
    conversations.c.first_response_at,
    conversations.c.priority,
    conversations.c.snoozed_until,
    conversations.c.follow_up_at,
    conversations.c.assignee_id,
)


@dataclass(frozen=True, slots=True)
class Change:
    """What a transition did to one conversation."""

    conversation_id: int
    before: ConversationState
    after: ConversationState

    @property
    def changed(self) -> bool:
        return self.before != self.after


def _json(value: Any) -> Any:
    """A detail value as JSON: datetimes as ISO 8601 text (what orjson writes for them in bulk)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    return value


def event_row(
    conversation_id: int,
    kind: ConversationEventKind,
    before: ConversationState | None,
    after: ConversationState,
    *,
    at: datetime,
    actor_id: int | None = None,
    detail: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One conversation_events row: `before` None when the event created the conversation.

    Datetimes in `detail` stay datetimes here: `record_many` hands them to orjson (fast, ingest's
    path), the single-row writes convert them first."""
    body: dict[str, Any] = {"changes": (before or NEW).changes(after)}
    if detail:
        body.update(detail)
    return {
        "conversation_id": conversation_id,
        "at": at,
        "actor_user_id": actor_id,
        "kind": kind,
        "from_status": before.status if before is not None else None,
        "to_status": after.status,
        "detail": body,
    }


def load(conn: Connection, conversation_id: int) -> ConversationState:
    """The conversation's current state, its row locked until the transaction ends (PostgreSQL; SQLite
    write transactions are serial anyway). NotFound when it does not exist."""
    row = (
        conn.execute(
            sa.select(*_STATE_COLUMNS).where(conversations.c.id == conversation_id).with_for_update()
        )
        .mappings()
        .first()
    )
    if row is None:
        raise conversation_not_found(conversation_id)
    return ConversationState.from_row(row)


def apply(
    conn: Connection,
    conversation_id: int,
    kind: ConversationEventKind,
    transition: Transition,
    *,
    actor_id: int | None = None,
    at: datetime | None = None,
    detail: Mapping[str, Any] | None = None,
    before: ConversationState | None = None,
    record_unchanged: bool = False,
) -> Change:
    """Move one conversation through `transition`: write the columns that changed and a history row.

    Nothing is written when the state does not change, unless `record_unchanged` (an event worth
    keeping in the timeline, such as a move to DM, that changes no column of this conversation).
    `before` is the state `load` returned earlier in the same transaction, to skip a second read."""
    prev = before if before is not None else load(conn, conversation_id)
    nxt = transition(prev)
    change = Change(conversation_id, prev, nxt)
    if change.changed:
        values = {name: new for name, (_, new) in prev.changes(nxt).items()}
        conn.execute(conversations.update().where(conversations.c.id == conversation_id).values(**values))
    if change.changed or record_unchanged:
        row = event_row(conversation_id, kind, prev, nxt, at=at or utcnow(), actor_id=actor_id, detail=detail)
        _insert_one(conn, row)
    return change


def record_created(
    conn: Connection,
    conversation_id: int,
    state: ConversationState,
    *,
    actor_id: int | None = None,
    at: datetime | None = None,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """The history row of a conversation just inserted with `state`."""
    row = event_row(
        conversation_id, "created", None, state, at=at or utcnow(), actor_id=actor_id, detail=detail
    )
    _insert_one(conn, row)


def _insert_one(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(conversation_events.insert(), [{**row, "detail": _json(row["detail"])}])


def record_many(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """History rows made by `event_row`, in one statement (ingest: one call per page)."""
    bulk_insert(conn, conversation_events, rows)
