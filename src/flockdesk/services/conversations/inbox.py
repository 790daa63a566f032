"""Inbox views: the lists an agent works from, filtered, sorted and paged by keyset (never OFFSET).

A page is read in three short queries whatever the inbox size: the conversations of the page (walking
an index on (status, priority, id) or (status, waiting_since, id)), the latest inbound message of each
(for the snippet and triage chips), and their tags. Full-text search lives in services/conversations/search.py.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from flockdesk.domain.utc import as_utc, maybe_utc
from flockdesk.services.conversations import sla
from flockdesk.services.errors import InvalidInput
from flockdesk.store.schema import contacts, conversation_tags, conversations, messages, tags, users

VIEWS = (
    "all",
    "mine",
    "unassigned",
    "mentions",
    "dms",
    "listening",
    "snoozed",
    "resolved",
    "leads",
    "influencers",
)
SORTS = ("priority", "waiting")
MAX_LIMIT = 200
SNIPPET_CHARS = 160
c = conversations.c
m = messages.c


@dataclass(frozen=True, slots=True)
class InboxFilters:
    account_id: int | None = None
    channel: str | None = None
    assignee_id: int | None = None
    tag: str | None = None
    intent: str | None = None
    sentiment: str | None = None
    sensitive: bool | None = None
    urgent: bool | None = None
    move_to_dm: bool | None = None  # web (E2): the triage label "ask to move to DM"
    influencer: bool | None = None  # web (E2): the author is an influencer


@dataclass(frozen=True, slots=True)
class InboxRow:
    conversation_id: int
    account_id: int
    kind: str
    channel: str
    status: str
    contact_name: str
    contact_username: str
    snippet: str
    waiting_since: datetime | None
    sla: sla.SlaClock
    assignee_id: int | None
    assignee_username: str | None
    tags: list[str]
    intent: str | None
    sentiment: str | None
    sensitive: list[str]
    urgent: bool
    influencer: bool
    move_to_dm: bool
    priority: float
    last_message_at: datetime | None
    follow_up_at: datetime | None = None
    matched_text: str | None = None  # for search results: the matching message
    contact_verified: bool = False  # the platform's verified mark on the contact


@dataclass(frozen=True, slots=True)
class InboxPage:
    rows: list[InboxRow] = field(default_factory=list)
    next_cursor: str | None = None


def encode_cursor(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _is_id(v: object) -> bool:
    return type(v) is int and 0 <= v < 2**63


def _is_timestamp(v: object) -> bool:
    if not isinstance(v, str):
        return False
    try:
        as_utc(datetime.fromisoformat(v))
    except (ValueError, OverflowError):
        return False
    return True


def _well_formed(data: dict[str, Any]) -> bool:
    """Whether a cursor's key has the shape its listing writes (see _page_ids and search.search), so a
    forged one is refused here instead of failing in the query."""
    k = data.get("k")
    if data["s"] == "priority":
        return (
            isinstance(k, list)
            and len(k) == 2
            and type(k[0]) in (int, float)
            and math.isfinite(k[0])
            and _is_id(k[1])
        )
    if data["s"] == "waiting":
        if data.get("p") not in (0, 1) or type(data.get("p")) is not int:
            return False
        if not k:
            return k is None or k == []
        if data["p"] == 0:
            return isinstance(k, list) and len(k) == 2 and _is_timestamp(k[0]) and _is_id(k[1])
        return isinstance(k, list) and len(k) == 1 and _is_id(k[0])
    if data["s"] == "search":
        return _is_id(k)
    return False


def decode_cursor(token: str, expected: str) -> dict[str, Any]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if not isinstance(data, dict) or data.get("s") != expected:
            raise ValueError("cursor made for another listing")
        if not _well_formed(data):
            raise ValueError("cursor key altered")
        return data
    except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidInput(
            "the page cursor is not valid (it belongs to another list or was altered); reload the first page"
        ) from exc


def _latest_inbound_id(conv_id: Any) -> sa.ScalarSelect[Any]:
    m2 = messages.alias("m2")
    return (
        sa.select(m2.c.id)
        .where(m2.c.conversation_id == conv_id, m2.c.direction == "in")
        .order_by(m2.c.created_at.desc(), m2.c.id.desc())
        .limit(1)
        .correlate(conversations)
        .scalar_subquery()
    )


def _has_inbound(cond: Any) -> Any:
    return sa.exists(
        sa.select(1).select_from(messages).where(m.conversation_id == c.id, m.direction == "in", cond)
    )


def _view_conditions(view: str, user_id: int | None) -> list[Any]:
    if view not in VIEWS:
        raise InvalidInput(f"unknown view {view!r}: use one of {', '.join(VIEWS)}")
    status = {"snoozed": "snoozed", "resolved": "resolved"}.get(view, "open")
    conds: list[Any] = [c.status == status]
    if view == "mine":
        if user_id is None:
            raise InvalidInput("the Mine view needs the signed-in user's id")
        conds.append(c.assignee_id == user_id)
    elif view == "unassigned":
        conds.append(c.assignee_id.is_(None))
    elif view in ("mentions", "dms", "listening"):
        conds.append(c.channel == {"mentions": "mention", "dms": "dm", "listening": "search"}[view])
    elif view == "leads":
        conds.append(_has_inbound(m.intent == "lead"))
    elif view == "influencers":
        conds.append(_has_inbound(m.influencer.is_(True)))
    return conds


def _filter_conditions(f: InboxFilters) -> list[Any]:
    conds: list[Any] = []
    if f.account_id is not None:
        conds.append(c.account_id == f.account_id)
    if f.channel is not None:
        conds.append(c.channel == f.channel)
    if f.assignee_id is not None:
        conds.append(c.assignee_id == f.assignee_id)
    if f.tag:
        conds.append(
            sa.exists(
                sa.select(1)
                .select_from(conversation_tags.join(tags, tags.c.id == conversation_tags.c.tag_id))
                .where(conversation_tags.c.conversation_id == c.id, tags.c.name == f.tag.strip().lower())
            )
        )
    latest = messages.alias("latest")
    label_conds: list[Any] = []
    if f.intent is not None:
        label_conds.append(latest.c.intent == f.intent)
    if f.sentiment is not None:
        label_conds.append(latest.c.sentiment == f.sentiment)
    if f.urgent is not None:
        label_conds.append(
            latest.c.urgent.is_(True) if f.urgent else sa.func.coalesce(latest.c.urgent, False).is_(False)
        )
    for flag, col in ((f.move_to_dm, latest.c.move_to_dm), (f.influencer, latest.c.influencer)):
        if flag is not None:
            label_conds.append(col.is_(True) if flag else sa.func.coalesce(col, False).is_(False))
    if f.sensitive is not None:
        present = sa.and_(
            latest.c.sensitive.is_not(None), sa.cast(latest.c.sensitive, sa.Text).not_in(["[]", "null"])
        )
        label_conds.append(present if f.sensitive else sa.not_(present))
    if label_conds:
        # triage labels are those of the conversation's latest inbound message (what the row shows)
        conds.append(
            sa.exists(
                sa.select(1).select_from(latest).where(latest.c.id == _latest_inbound_id(c.id), *label_conds)
            )
        )
    return conds


def _page_ids(
    conn: Connection, conds: list[Any], sort: str, limit: int, cursor: str | None
) -> tuple[list[int], str | None]:
    if sort == "priority":
        q = sa.select(c.id, c.priority).where(*conds)
        if cursor:
            k = decode_cursor(cursor, "priority")["k"]
            q = q.where(
                sa.tuple_(c.priority, c.id) < sa.tuple_(sa.literal(float(k[0])), sa.literal(int(k[1])))
            )
        rows = conn.execute(q.order_by(c.priority.desc(), c.id.desc()).limit(limit + 1)).all()
        nxt = None
        if len(rows) > limit:
            last = rows[limit - 1]
            nxt = encode_cursor({"s": "priority", "k": [last.priority, last.id]})
        return [r.id for r in rows[:limit]], nxt
    # waiting: the longest-waiting first, then the answered (no waiting clock) by id
    phase, key = 0, None
    if cursor:
        data = decode_cursor(cursor, "waiting")
        phase, key = int(data["p"]), data.get("k")
    ids: list[tuple[int, Any]] = []
    if phase == 0:
        q = sa.select(c.id, c.waiting_since).where(*conds, c.waiting_since.is_not(None))
        if key:
            ts = as_utc(datetime.fromisoformat(key[0]))
            q = q.where(
                sa.tuple_(c.waiting_since, c.id)
                > sa.tuple_(sa.literal(ts, c.waiting_since.type), sa.literal(int(key[1])))
            )
        rows = conn.execute(q.order_by(c.waiting_since.asc(), c.id.asc()).limit(limit + 1)).all()
        ids = [(r.id, r.waiting_since) for r in rows]
        if len(ids) > limit:
            last_id, last_ts = ids[limit - 1]
            return [i for i, _ in ids[:limit]], encode_cursor(
                {"s": "waiting", "p": 0, "k": [as_utc(last_ts).isoformat(), last_id]}
            )
        key = None
    q = sa.select(c.id).where(*conds, c.waiting_since.is_(None))
    if phase == 1 and key:
        q = q.where(c.id > int(key[0]))
    room = limit - len(ids)
    rows1 = conn.execute(q.order_by(c.id.asc()).limit(room + 1)).all()
    out = [i for i, _ in ids] + [r.id for r in rows1[:room]]
    nxt = encode_cursor({"s": "waiting", "p": 1, "k": [rows1[room - 1].id]}) if len(rows1) > room else None
    return out, nxt


def build_rows(
    conn: Connection, ids: list[int], now: datetime | None, matched: dict[int, str] | None = None
) -> list[InboxRow]:
    """Inbox rows for these conversation ids, in the given order."""
    if not ids:
        return []
    policies = sla.get_policies_conn(conn)
    latest = messages.alias("latest_in")
    convs = {
        r["id"]: r
        for r in conn.execute(
            sa.select(
                c.id,
                c.account_id,
                c.kind,
                c.channel,
                c.status,
                c.waiting_since,
                c.assignee_id,
                c.priority,
                c.last_message_at,
                c.follow_up_at,
                contacts.c.name,
                contacts.c.username,
                contacts.c.verified,
                users.c.username.label("assignee_username"),
                latest.c.text,
                latest.c.intent,
                latest.c.sentiment,
                latest.c.sensitive,
                latest.c.urgent,
                latest.c.influencer,
                latest.c.move_to_dm,
            )
            .select_from(
                conversations.outerjoin(contacts, contacts.c.id == c.contact_id)
                .outerjoin(users, users.c.id == c.assignee_id)
                .outerjoin(latest, latest.c.id == _latest_inbound_id(c.id))
            )
            .where(c.id.in_(ids))
        ).mappings()
    }
    tag_map: dict[int, list[str]] = {}
    for r in conn.execute(
        sa.select(conversation_tags.c.conversation_id, tags.c.name)
        .select_from(conversation_tags.join(tags, tags.c.id == conversation_tags.c.tag_id))
        .where(conversation_tags.c.conversation_id.in_(ids))
        .order_by(tags.c.name)
    ):
        tag_map.setdefault(r.conversation_id, []).append(r.name)
    rows: list[InboxRow] = []
    for cid in ids:
        cv = convs.get(cid)
        if cv is None:
            continue
        msg: Any = cv
        text = (matched or {}).get(cid) or msg.get("text") or ""
        waiting = maybe_utc(cv["waiting_since"])
        rows.append(
            InboxRow(
                conversation_id=cid,
                account_id=cv["account_id"],
                kind=cv["kind"],
                channel=cv["channel"],
                status=cv["status"],
                contact_name=cv["name"] or "",
                contact_username=cv["username"] or "",
                snippet=_snippet(msg.get("text") or ""),
                waiting_since=waiting,
                sla=sla.clock(waiting, cv["channel"], policies, now),
                assignee_id=cv["assignee_id"],
                assignee_username=cv["assignee_username"],
                tags=tag_map.get(cid, []),
                intent=msg.get("intent"),
                sentiment=msg.get("sentiment"),
                sensitive=list(msg.get("sensitive") or []),
                urgent=bool(msg.get("urgent")),
                influencer=bool(msg.get("influencer")),
                move_to_dm=bool(msg.get("move_to_dm")),
                priority=float(cv["priority"] or 0.0),
                last_message_at=maybe_utc(cv["last_message_at"]),
                follow_up_at=maybe_utc(cv["follow_up_at"]),
                matched_text=_snippet(text) if matched else None,
                contact_verified=bool(cv["verified"]),
            )
        )
    return rows


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SNIPPET_CHARS else flat[: SNIPPET_CHARS - 1] + "…"


def list_view(
    engine: Engine,
    view: str = "all",
    *,
    user_id: int | None = None,
    filters: InboxFilters | None = None,
    sort: str = "priority",
    limit: int = 50,
    cursor: str | None = None,
    now: datetime | None = None,
) -> InboxPage:
    """One page of a view; pass the returned next_cursor to get the following page."""
    if sort not in SORTS:
        raise InvalidInput(f"unknown sort {sort!r}: use 'priority' or 'waiting'")
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"page size must be between 1 and {MAX_LIMIT}")
    conds = _view_conditions(view, user_id) + _filter_conditions(filters or InboxFilters())
    with engine.connect() as conn:
        ids, nxt = _page_ids(conn, conds, sort, limit, cursor)
        return InboxPage(build_rows(conn, ids, now), nxt)


def search(
    engine: Engine, query: str, *, limit: int = 50, cursor: str | None = None, now: datetime | None = None
) -> InboxPage:
    """Full-text search (see services/conversations/search.py), here so callers find every listing in one place."""
    from flockdesk.services.conversations import search as _search

    return _search.search(engine, query, limit=limit, cursor=cursor, now=now)
