"""Reading a conversation's history (the `conversation_events` rows services/conversations/state.py
writes): its timeline, and the first-response and resolution times reports use.

- opened: when the customer first started waiting (the first inbound message the history saw).
- first response: the first outbound message that answered a waiting customer, measured from the
  start of the wait it ended.
- resolution: when it was last resolved, measured from when it opened; None while it is not resolved.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.domain.utc import as_utc
from flockdesk.store.schema import conversation_events, users

CHUNK = 1000


@dataclass(frozen=True, slots=True)
class ConversationEvent:
    id: int
    conversation_id: int
    at: datetime
    kind: str
    from_status: str | None
    to_status: str
    actor_user_id: int | None
    actor: str  # the username, or "system"
    changes: dict[str, list[Any]] = field(default_factory=dict)  # column -> [before, after] (JSON values)
    detail: dict[str, Any] = field(default_factory=dict)  # everything else the event recorded


@dataclass(frozen=True, slots=True)
class ResponseTimes:
    conversation_id: int
    opened_at: datetime | None
    first_response_at: datetime | None
    first_response_seconds: float | None
    resolved_at: datetime | None
    resolution_seconds: float | None


def _query(ids: Sequence[int]) -> sa.Select[Any]:
    e = conversation_events.c
    return (
        sa.select(
            e.id,
            e.conversation_id,
            e.at,
            e.kind,
            e.from_status,
            e.to_status,
            e.actor_user_id,
            e.detail,
            users.c.username,
        )
        .select_from(conversation_events.outerjoin(users, users.c.id == e.actor_user_id))
        .where(e.conversation_id.in_(list(ids)))
        .order_by(e.conversation_id, e.id)
    )


def _event(row: Any) -> ConversationEvent:
    body = dict(row.detail or {})
    changes = body.pop("changes", {}) or {}
    return ConversationEvent(
        id=int(row.id),
        conversation_id=int(row.conversation_id),
        at=row.at,
        kind=row.kind,
        from_status=row.from_status,
        to_status=row.to_status,
        actor_user_id=row.actor_user_id,
        actor=row.username or "system",
        changes=changes,
        detail=body,
    )


def events_of(engine: Engine, conversation_ids: Sequence[int]) -> dict[int, list[ConversationEvent]]:
    """The history of each conversation, oldest first (an empty list when it has none)."""
    out: dict[int, list[ConversationEvent]] = {int(cid): [] for cid in conversation_ids}
    ids = list(out)
    with engine.connect() as conn:
        for start in range(0, len(ids), CHUNK):
            for row in conn.execute(_query(ids[start : start + CHUNK])):
                out[int(row.conversation_id)].append(_event(row))
    return out


def timeline(engine: Engine, conversation_id: int) -> list[ConversationEvent]:
    """Every state change of one conversation, oldest first: who, when, from, to."""
    return events_of(engine, [conversation_id])[conversation_id]


def _time(value: Any) -> datetime | None:
    if value is None:
        return None
    return as_utc(value if isinstance(value, datetime) else datetime.fromisoformat(str(value)))


def _changed_to(event: ConversationEvent, column: str) -> tuple[datetime | None, datetime | None] | None:
    """(before, after) of a datetime column this event changed, else None."""
    pair = event.changes.get(column)
    return None if pair is None else (_time(pair[0]), _time(pair[1]))


def times_from(conversation_id: int, events: Iterable[ConversationEvent]) -> ResponseTimes:
    """First-response and resolution times from one conversation's history (oldest first)."""
    opened: datetime | None = None
    first_at: datetime | None = None
    first_s: float | None = None
    resolved_at: datetime | None = None
    for event in events:
        first_inbound = _time(event.detail.get("first_inbound_at"))
        waiting = _changed_to(event, "waiting_since")
        if opened is None:
            opened = first_inbound or (waiting[1] if waiting else None)
        response = _changed_to(event, "first_response_at")
        if first_at is None and response is not None and response[0] is None and response[1] is not None:
            first_at = response[1]
            began = (waiting[0] if waiting else None) or first_inbound or opened
            first_s = (first_at - began).total_seconds() if began is not None else None
        if event.from_status != event.to_status or event.from_status is None:
            resolved_at = event.at if event.to_status == "resolved" else None
    resolution_s = (resolved_at - opened).total_seconds() if resolved_at and opened else None
    return ResponseTimes(conversation_id, opened, first_at, first_s, resolved_at, resolution_s)


def response_times(engine: Engine, conversation_ids: Sequence[int]) -> dict[int, ResponseTimes]:
    """First-response and resolution times per conversation, from their histories."""
    return {cid: times_from(cid, events) for cid, events in events_of(engine, conversation_ids).items()}
