"""Reading a conversation's history (the `conversation_events` rows services/conversations/state.py
writes): its timeline, the activity the conversation page shows (`activity`: the newest events, with
each change described for people), and the first-response and resolution times reports use.

- opened: when the customer first started waiting (the first inbound message the history saw).
- first response: the first outbound message that answered a waiting customer, measured from the
  start of the wait it ended.
- resolution: when it was last resolved, measured from when it opened; None while it is not resolved.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

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


def select_events() -> sa.Select[Any]:
    """History rows with the actor's username: the timeline here and the audit log
    (services/team/audit_log.py) add their own filters and order."""
    e = conversation_events.c
    return sa.select(
        e.id,
        e.conversation_id,
        e.at,
        e.kind,
        e.from_status,
        e.to_status,
        e.actor_user_id,
        e.detail,
        users.c.username,
    ).select_from(conversation_events.outerjoin(users, users.c.id == e.actor_user_id))


def _query(ids: Sequence[int]) -> sa.Select[Any]:
    e = conversation_events.c
    return select_events().where(e.conversation_id.in_(list(ids))).order_by(e.conversation_id, e.id)


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


# ---- what the conversation page and the audit log show ------------------------------------------

ACTIVITY_LIMIT = 200  # the newest events the conversation page shows; a busy thread can have thousands
# The changed columns people read, in this order. Status is the event's from/to; last_message_at moves
# with every message and says nothing the thread does not.
SHOWN_FIELDS = (
    "assignee_id",
    "priority",
    "snoozed_until",
    "follow_up_at",
    "waiting_since",
    "first_response_at",
)
_TIME_FIELDS = frozenset({"snoozed_until", "follow_up_at", "waiting_since", "first_response_at"})


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One column an event changed, with values ready to show: a datetime, a number, a username."""

    field: str
    before: Any
    after: Any


@dataclass(frozen=True, slots=True)
class ActivityEntry:
    event: ConversationEvent
    fields: list[FieldChange]


@dataclass(frozen=True, slots=True)
class Activity:
    """The newest events of one conversation, oldest first, and how many it has in all."""

    entries: list[ActivityEntry]
    total: int

    @property
    def hidden(self) -> int:
        return self.total - len(self.entries)


def user_names(conn: Connection, ids: Iterable[int]) -> dict[int, str]:
    """Usernames by id (disabled users included: they still did what the history says)."""
    wanted = sorted({int(i) for i in ids})
    if not wanted:
        return {}
    rows = conn.execute(sa.select(users.c.id, users.c.username).where(users.c.id.in_(wanted)))
    return {int(r.id): str(r.username) for r in rows}


def assignee_ids(changes: Mapping[str, Sequence[Any]]) -> list[int]:
    pair = changes.get("assignee_id") or ()
    return [int(v) for v in pair if v is not None]


def _shown(field_name: str, value: Any, names: Mapping[int, str]) -> Any:
    if value is None:
        return None
    if field_name == "assignee_id":
        return names.get(int(value), f"user #{int(value)}")
    if field_name in _TIME_FIELDS:
        return _time(value)
    if field_name == "priority":
        return float(value)
    return value


def describe(changes: Mapping[str, Sequence[Any]], names: Mapping[int, str]) -> list[FieldChange]:
    """The changes people read (SHOWN_FIELDS), assignees by username, times as datetimes."""
    out = []
    for name in SHOWN_FIELDS:
        pair = changes.get(name)
        if pair is not None and len(pair) == 2:
            out.append(FieldChange(name, _shown(name, pair[0], names), _shown(name, pair[1], names)))
    return out


def activity(engine: Engine, conversation_id: int, *, limit: int = ACTIVITY_LIMIT) -> Activity:
    """The newest `limit` events of the conversation (oldest first), each change described."""
    e = conversation_events.c
    limit = max(1, min(limit, 1000))
    with engine.connect() as conn:
        total = conn.execute(
            sa.select(sa.func.count())
            .select_from(conversation_events)
            .where(e.conversation_id == conversation_id)
        ).scalar_one()
        newest = _query([conversation_id]).order_by(None).order_by(e.id.desc()).limit(limit)
        events = [_event(row) for row in conn.execute(newest)]
        events.reverse()
        names = user_names(conn, [i for ev in events for i in assignee_ids(ev.changes)])
    return Activity([ActivityEntry(ev, describe(ev.changes, names)) for ev in events], int(total))
