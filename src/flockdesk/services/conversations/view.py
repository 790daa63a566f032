"""Read side of one conversation: its thread in order and the contact panel.

Every public post (the customers' and the account's own) and every profile carries its link on the
platform ("View on X"), from the platform's profile in the connector registry; a native reply not yet
matched carries the link that opens the platform's composer with its text."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from flockdesk.connectors import registry
from flockdesk.connectors.base import PlatformProfile
from flockdesk.domain.errors import NotFound, conversation_not_found
from flockdesk.store.schema import (
    contacts,
    conversation_tags,
    conversations,
    messages,
    notes,
    outbox,
    tags,
    users,
)

THREAD_LIMIT = 1000  # newest messages shown in one view


@dataclass(frozen=True, slots=True)
class ConversationInfo:
    id: int
    account_id: int
    kind: str
    channel: str
    status: str
    assignee_id: int | None
    assignee_username: str | None
    priority: float
    snoozed_until: datetime | None
    follow_up_at: datetime | None
    linked_conversation_id: int | None
    waiting_since: datetime | None
    last_message_at: datetime | None
    created_at: datetime | None
    contact_id: int | None
    external_thread_id: str


@dataclass(frozen=True, slots=True)
class ThreadItem:
    type: str  # message | note | outbox
    id: int
    at: datetime | None
    text: str
    direction: str  # in | out | internal
    kind: str  # message kind, "note", or outbox kind
    author_name: str = ""
    author_username: str = ""
    status: str | None = None  # outbox status for outbound items
    error: str | None = None
    outbox_id: int | None = None
    intent: str | None = None
    sentiment: str | None = None
    sensitive: list[str] = field(default_factory=list)
    urgent: bool | None = None
    move_to_dm: bool | None = None
    mentions: list[int] = field(default_factory=list)
    url: str | None = None  # the post on the platform (public posts only)
    native_link: str | None = None  # a native reply awaiting its person: opens the platform's composer
    confirmed: bool = False  # a native reply the person said they posted
    transport: str | None = None  # for a DM: legacy | xchat (X Chat, end-to-end encrypted)
    lang: str | None = None  # the language triage detected (ISO 639-1 or "und"); None until triaged


@dataclass(frozen=True, slots=True)
class NoteInfo:
    id: int
    conversation_id: int
    author_id: int | None
    author_username: str
    text: str
    mentions: list[int]
    created_at: datetime | None


@dataclass(frozen=True, slots=True)
class ContactConversation:
    id: int
    kind: str
    channel: str
    status: str
    last_message_at: datetime | None


@dataclass(frozen=True, slots=True)
class ContactPanel:
    id: int
    platform: str
    external_id: str
    name: str
    username: str
    bio: str
    followers_count: int
    verified: bool
    first_seen_at: datetime | None
    conversations: list[ContactConversation]
    tags: list[str]
    notes: list[NoteInfo]
    url: str | None = None  # the profile on the platform
    platform_name: str = ""  # for people, e.g. "X"
    opted_out_at: datetime | None = None
    opted_out_reason: str | None = None


@dataclass(frozen=True, slots=True)
class ConversationView:
    conversation: ConversationInfo
    thread: list[ThreadItem]
    contact: ContactPanel | None
    tags: list[str]


def _info(conn: Connection, conversation_id: int) -> ConversationInfo:
    c = conversations.c
    row = (
        conn.execute(
            sa.select(conversations, users.c.username.label("assignee_username"))
            .select_from(conversations.outerjoin(users, users.c.id == c.assignee_id))
            .where(c.id == conversation_id)
        )
        .mappings()
        .first()
    )
    if row is None:
        raise conversation_not_found(conversation_id)
    return ConversationInfo(
        id=row["id"],
        account_id=row["account_id"],
        kind=row["kind"],
        channel=row["channel"],
        status=row["status"],
        assignee_id=row["assignee_id"],
        assignee_username=row["assignee_username"],
        priority=row["priority"],
        snoozed_until=row["snoozed_until"],
        follow_up_at=row["follow_up_at"],
        linked_conversation_id=row["linked_conversation_id"],
        waiting_since=row["waiting_since"],
        last_message_at=row["last_message_at"],
        created_at=row["created_at"],
        contact_id=row["contact_id"],
        external_thread_id=row["external_thread_id"],
    )


def _tags_of(conn: Connection, conversation_ids: list[int]) -> list[str]:
    if not conversation_ids:
        return []
    q = (
        sa.select(tags.c.name)
        .distinct()
        .select_from(conversation_tags.join(tags, tags.c.id == conversation_tags.c.tag_id))
        .where(conversation_tags.c.conversation_id.in_(conversation_ids))
        .order_by(tags.c.name)
    )
    return [r[0] for r in conn.execute(q)]


def _note(row: Any) -> NoteInfo:
    return NoteInfo(
        row["id"],
        row["conversation_id"],
        row["author_id"],
        row["author_username"] or "",
        row["text"],
        list(row["mentions"] or []),
        row["created_at"],
    )


def _notes_query() -> sa.Select[Any]:
    return sa.select(notes, users.c.username.label("author_username")).select_from(
        notes.outerjoin(users, users.c.id == notes.c.author_id)
    )


def _profile(platform: str) -> PlatformProfile | None:
    try:
        return registry.profile(platform)
    except ValueError:  # an account of a platform this install no longer knows: no links
        return None


def _thread(conn: Connection, conversation_id: int, kind: str, platform: str) -> list[ThreadItem]:
    links = _profile(platform)
    public = kind == "public"
    m = messages.c
    msg_rows = (
        conn.execute(
            sa.select(
                messages.c.id,
                m.created_at,
                m.text,
                m.direction,
                m.kind,
                m.external_id,
                m.outbox_id,
                m.intent,
                m.sentiment,
                m.sensitive,
                m.urgent,
                m.move_to_dm,
                m.transport,
                m.lang,
                contacts.c.name,
                contacts.c.username,
                outbox.c.status,
                outbox.c.error,
            )
            .select_from(
                messages.outerjoin(contacts, contacts.c.id == m.author_contact_id).outerjoin(
                    outbox, outbox.c.id == m.outbox_id
                )
            )
            .where(m.conversation_id == conversation_id)
            .order_by(m.created_at.desc(), m.id.desc())
            .limit(THREAD_LIMIT)
        )
        .mappings()
        .all()
    )
    items = [
        ThreadItem(
            "message",
            r["id"],
            r["created_at"],
            r["text"],
            r["direction"],
            r["kind"],
            r["name"] or "",
            r["username"] or "",
            r["status"] or ("sent" if r["direction"] == "out" else None),
            r["error"],
            r["outbox_id"],
            r["intent"],
            r["sentiment"],
            list(r["sensitive"] or []),
            r["urgent"],
            r["move_to_dm"],
            url=links.post_url(r["external_id"]) if links and public and r["kind"] != "dm" else None,
            transport=r["transport"],
            lang=r["lang"],
        )
        for r in msg_rows
    ]
    echoed = {r["outbox_id"] for r in msg_rows if r["outbox_id"] is not None}
    for r in conn.execute(
        sa.select(outbox, users.c.username)
        .select_from(outbox.outerjoin(users, users.c.id == outbox.c.created_by))
        .where(outbox.c.conversation_id == conversation_id)
        .order_by(outbox.c.id)
    ).mappings():
        if r["id"] in echoed:
            continue
        items.append(
            ThreadItem(
                "outbox",
                r["id"],
                r["sent_at"] or r["created_at"],
                r["text"],
                "out",
                r["kind"],
                "",
                r["username"] or "",
                r["status"],
                r["error"],
                r["id"],
                url=links.post_url(r["external_id"])
                if links and public and r["external_id"] and r["kind"] != "dm"
                else None,
                native_link=links.reply_intent_link(r["in_reply_to_external_id"], r["text"])
                if links and r["status"] == "awaiting_native" and r["in_reply_to_external_id"]
                else None,
                confirmed=r["status"] == "awaiting_native" and r["claimed_at"] is not None,
                transport=r["transport"],
            )
        )
    for r in conn.execute(_notes_query().where(notes.c.conversation_id == conversation_id)).mappings():
        n = _note(r)
        items.append(
            ThreadItem(
                "note",
                n.id,
                n.created_at,
                n.text,
                "internal",
                "note",
                "",
                n.author_username,
                mentions=n.mentions,
            )
        )
    order = {"message": 0, "outbox": 1, "note": 2}
    items.sort(key=lambda i: (i.at is None, i.at or datetime.min, order[i.type], i.id))
    return items


def _panel(conn: Connection, contact_id: int) -> ContactPanel:
    row = conn.execute(sa.select(contacts).where(contacts.c.id == contact_id)).mappings().first()
    if row is None:
        raise NotFound(f"contact {contact_id} does not exist")
    c = conversations.c
    convs = [
        ContactConversation(r.id, r.kind, r.channel, r.status, r.last_message_at)
        for r in conn.execute(
            sa.select(c.id, c.kind, c.channel, c.status, c.last_message_at)
            .where(c.contact_id == contact_id)
            .order_by(c.last_message_at.desc(), c.id.desc())
        )
    ]
    contact_notes = [
        _note(r)
        for r in conn.execute(
            _notes_query()
            .where(notes.c.contact_id == contact_id)
            .order_by(notes.c.created_at.desc(), notes.c.id.desc())
            .limit(200)
        ).mappings()
    ]
    links = _profile(row["platform"])
    return ContactPanel(
        id=row["id"],
        platform=row["platform"],
        external_id=row["external_id"],
        name=row["name"],
        username=row["username"],
        bio=row["bio"],
        followers_count=row["followers_count"],
        verified=row["verified"],
        first_seen_at=row["first_seen_at"],
        conversations=convs,
        tags=_tags_of(conn, [cv.id for cv in convs]),
        notes=contact_notes,
        url=links.profile_url(row["username"]) if links and row["username"] else None,
        platform_name=links.display_name if links else row["platform"],
        opted_out_at=row["opted_out_at"],
        opted_out_reason=row["opted_out_reason"],
    )


def get_conversation(engine: Engine, conversation_id: int) -> ConversationView:
    with engine.connect() as conn:
        info = _info(conn, conversation_id)
        platform = conn.execute(
            sa.select(conversations.c.platform).where(conversations.c.id == conversation_id)
        ).scalar_one()
        thread = _thread(conn, conversation_id, info.kind, platform)
        panel = _panel(conn, info.contact_id) if info.contact_id is not None else None
        return ConversationView(info, thread, panel, _tags_of(conn, [conversation_id]))


def contact_panel(engine: Engine, contact_id: int) -> ContactPanel:
    with engine.connect() as conn:
        return _panel(conn, contact_id)
