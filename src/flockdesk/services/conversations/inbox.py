"""Inbox views: the lists an agent works from, filtered, sorted and paged by keyset (never OFFSET).

A page is read in three short queries whatever the inbox size: the conversations of the page (walking
an index on (status, priority, id) or (status, waiting_since, id)), the latest inbound message of each
(for the snippet and triage chips), and their tags (services/conversations/listing.py builds the rows).
Full-text search lives in services/conversations/search.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from flockdesk.domain.errors import InvalidInput
from flockdesk.domain.utc import as_utc
from flockdesk.services.conversations import search as full_text
from flockdesk.services.conversations.listing import (
    MAX_LIMIT,
    InboxPage,
    build_rows,
    decode_cursor,
    encode_cursor,
    latest_inbound_id,
)
from flockdesk.store.schema import conversation_tags, conversations, messages, tags

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
    lang: str | None = None  # the detected language (ISO 639-1, or "und") of the latest inbound message


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
    if f.lang:
        label_conds.append(latest.c.lang == f.lang)
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
                sa.select(1).select_from(latest).where(latest.c.id == latest_inbound_id(c.id), *label_conds)
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
                {"s": "waiting", "p": 0, "k": [last_ts.isoformat(), last_id]}
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
    """Full-text search (services/conversations/search.py), here so callers find every listing in one place."""
    return full_text.search(engine, query, limit=limit, cursor=cursor, now=now)
