"""The rows every conversation listing shows (inbox views and search results) and their page cursors.

Shared by services/conversations/inbox.py and services/conversations/search.py: each finds the ids
of one page its own way, and this module turns them into rows in three short queries (the
conversations with contact, assignee and latest inbound message, then their tags).
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
from sqlalchemy import Connection

from flockdesk.domain.errors import InvalidInput
from flockdesk.domain.utc import as_utc
from flockdesk.services.conversations import sla
from flockdesk.store.schema import contacts, conversation_tags, conversations, messages, tags, users

MAX_LIMIT = 200
SNIPPET_CHARS = 160
c = conversations.c


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
    lang: str | None = None  # the detected language of the latest inbound message (ISO 639-1 or "und")


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
    """Whether a cursor's key has the shape its listing writes (see inbox._page_ids and
    search.search), so a forged one is refused here instead of failing in the query."""
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


def latest_inbound_id(conv_id: Any) -> sa.ScalarSelect[Any]:
    m2 = messages.alias("m2")
    return (
        sa.select(m2.c.id)
        .where(m2.c.conversation_id == conv_id, m2.c.direction == "in")
        .order_by(m2.c.created_at.desc(), m2.c.id.desc())
        .limit(1)
        .correlate(conversations)
        .scalar_subquery()
    )


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
                latest.c.lang,
            )
            .select_from(
                conversations.outerjoin(contacts, contacts.c.id == c.contact_id)
                .outerjoin(users, users.c.id == c.assignee_id)
                .outerjoin(latest, latest.c.id == latest_inbound_id(c.id))
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
        waiting = cv["waiting_since"]
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
                last_message_at=cv["last_message_at"],
                follow_up_at=cv["follow_up_at"],
                matched_text=_snippet(text) if matched else None,
                contact_verified=bool(cv["verified"]),
                lang=msg.get("lang"),
            )
        )
    return rows


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SNIPPET_CHARS else flat[: SNIPPET_CHARS - 1] + "…"
