"""The audit log as people read it: audit events and every conversation's state changes (its history,
`conversation_events`, services/conversations/history.py) merged newest first, filtered, paged.

A state change reads as the action `conversation.<kind>` (`conversation.resolve`,
`conversation.assign`, `conversation.inbound`...) on the target `conversation <id>`, by its actor
("system" for ingest, the outbox without an agent, and wake-ups), with what changed from what to what.
The audit rows that an agent's action on a conversation also writes (`conversation.resolve`,
`conversation.snooze_due`...) repeat a history row, so the merged log (`source="all"`) leaves them
out; `source="audit"` lists the audit rows alone as written, `source="history"` the state changes
alone.

Order: newest first by time; at the same instant audit rows first, then by id. A page ends with a
cursor (`LogPage.next_cursor`, an opaque string) that the next page starts after, so rows written
while someone reads never shift a page. A page holds at most MAX_LIMIT rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, get_args

import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.domain.errors import InvalidInput
from flockdesk.domain.utc import as_utc
from flockdesk.domain.vocabulary import CONVERSATION_EVENT_KINDS
from flockdesk.services.conversations import history
from flockdesk.services.conversations.history import FieldChange
from flockdesk.store.schema import audit_events, conversation_events

LogSource = Literal["all", "audit", "history"]
LOG_SOURCES: tuple[LogSource, ...] = get_args(LogSource)
MAX_LIMIT = 500
HISTORY_PREFIX = "conversation."
# Audit actions the conversation history already holds (who, when, from, to): left out of "all".
COVERED_ACTIONS = frozenset(
    {HISTORY_PREFIX + kind for kind in CONVERSATION_EVENT_KINDS}
    | {"conversation.snooze_due", "conversation.follow_up_due"}
)
_RANK = {"history": 0, "audit": 1}  # at the same instant an audit row sorts above a history row
_CURSOR_RE = re.compile(r"^(\d{1,20})\.([ah])\.(\d{1,20})$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class LogEntry:
    source: Literal["audit", "history"]
    id: int  # the row's id in its own table
    at: datetime
    actor_user_id: int | None
    actor: str
    action: str
    target_type: str | None
    target_id: str | None
    details: dict[str, Any] = field(default_factory=dict)  # audit details / the history row's detail
    from_status: str | None = None  # history rows only
    to_status: str | None = None
    changes: list[FieldChange] = field(default_factory=list)  # history rows only

    @property
    def cursor(self) -> str:
        micros = (as_utc(self.at) - _EPOCH) // timedelta(microseconds=1)
        return f"{micros}.{self.source[0]}.{self.id}"


@dataclass(frozen=True, slots=True)
class LogPage:
    entries: list[LogEntry]
    next_cursor: str | None  # None on the last page


@dataclass(frozen=True, slots=True)
class _Cursor:
    at: datetime
    rank: int
    id: int


def _parse_cursor(text: str) -> _Cursor:
    m = _CURSOR_RE.match(text.strip())
    if m is None:
        raise InvalidInput("that page link is not valid; start again from the newest entries")
    micros, src, row_id = m.groups()
    at = _EPOCH + timedelta(microseconds=int(micros))
    return _Cursor(at, _RANK["audit" if src == "a" else "history"], int(row_id))


def _after(at_col: Any, id_col: Any, rank: int, cur: _Cursor | None) -> list[Any]:
    """The keyset condition "(at, rank, id) sorts below the cursor" for one table of rank `rank`."""
    if cur is None:
        return []
    if rank < cur.rank:
        return [at_col <= cur.at]
    if rank > cur.rank:
        return [at_col < cur.at]
    return [sa.or_(at_col < cur.at, sa.and_(at_col == cur.at, id_col < cur.id))]


def _window(at_col: Any, since: datetime | None, until: datetime | None) -> list[Any]:
    out = []
    if since is not None:
        out.append(at_col >= as_utc(since))
    if until is not None:
        out.append(at_col < as_utc(until))
    return out


def _audit_rows(
    engine: Engine,
    source: LogSource,
    actor_user_id: int | None,
    action: str | None,
    target_type: str | None,
    target_id: str | None,
    since: datetime | None,
    until: datetime | None,
    cur: _Cursor | None,
    n: int,
) -> list[LogEntry]:
    t = audit_events.c
    where = [*_after(t.at, t.id, _RANK["audit"], cur), *_window(t.at, since, until)]
    if source == "all":
        where.append(t.action.not_in(sorted(COVERED_ACTIONS)))
    if actor_user_id is not None:
        where.append(t.actor_user_id == actor_user_id)
    if action is not None:
        where.append(t.action == action)
    if target_type is not None:
        where.append(t.target_type == target_type)
    if target_id is not None:
        where.append(t.target_id == target_id)
    q = sa.select(audit_events).where(*where).order_by(t.at.desc(), t.id.desc()).limit(n)
    with engine.connect() as conn:
        rows = conn.execute(q).mappings().all()
    return [
        LogEntry(
            "audit",
            int(r["id"]),
            r["at"],
            r["actor_user_id"],
            r["actor"],
            r["action"],
            r["target_type"],
            r["target_id"],
            dict(r["details"] or {}),
        )
        for r in rows
    ]


def _history_rows(
    engine: Engine,
    actor_user_id: int | None,
    action: str | None,
    target_type: str | None,
    target_id: str | None,
    since: datetime | None,
    until: datetime | None,
    cur: _Cursor | None,
    n: int,
) -> list[LogEntry]:
    e = conversation_events.c
    where = [*_after(e.at, e.id, _RANK["history"], cur), *_window(e.at, since, until)]
    if target_type is not None and target_type != "conversation":
        return []
    if target_id is not None:
        if not target_id.isdigit():
            return []
        where.append(e.conversation_id == int(target_id))
    if action is not None:
        if not action.startswith(HISTORY_PREFIX):
            return []
        where.append(e.kind == action.removeprefix(HISTORY_PREFIX))
    if actor_user_id is not None:
        where.append(e.actor_user_id == actor_user_id)
    q = history.select_events().where(*where).order_by(e.at.desc(), e.id.desc()).limit(n)
    with engine.connect() as conn:
        rows = conn.execute(q).all()
        body = [(r, dict(r.detail or {})) for r in rows]
        changes = [d.pop("changes", None) or {} for _, d in body]
        names = history.user_names(conn, [i for c in changes for i in history.assignee_ids(c)])
    return [
        LogEntry(
            "history",
            int(r.id),
            r.at,
            r.actor_user_id,
            r.username or "system",
            HISTORY_PREFIX + r.kind,
            "conversation",
            str(r.conversation_id),
            detail,
            r.from_status,
            r.to_status,
            history.describe(c, names),
        )
        for (r, detail), c in zip(body, changes, strict=True)
    ]


def _key(entry: LogEntry) -> tuple[datetime, int, int]:
    return (as_utc(entry.at), _RANK[entry.source], entry.id)


def read(
    engine: Engine,
    *,
    source: LogSource = "all",
    actor_user_id: int | None = None,
    action: str | None = None,
    target_type: str | None = None,
    target_id: str | int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    after: str | None = None,
) -> LogPage:
    """One page of the log, newest first (module docstring); `after` is the previous page's
    `next_cursor`. InvalidInput for an unknown source or a cursor that is not one."""
    if source not in LOG_SOURCES:
        raise InvalidInput(f"source must be one of {', '.join(LOG_SOURCES)}")
    n = max(1, min(limit, MAX_LIMIT))
    cur = _parse_cursor(after) if after else None
    tid = None if target_id is None else str(target_id)
    found: list[LogEntry] = []
    if source != "history":
        found += _audit_rows(
            engine, source, actor_user_id, action, target_type, tid, since, until, cur, n + 1
        )
    if source != "audit":
        found += _history_rows(engine, actor_user_id, action, target_type, tid, since, until, cur, n + 1)
    found.sort(key=_key, reverse=True)
    page = found[:n]
    return LogPage(page, page[-1].cursor if len(found) > n else None)
