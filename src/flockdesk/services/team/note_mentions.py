"""@mentions of teammates in internal notes: who was mentioned, and whether they have read it.

add_note (services/conversations/actions.py) calls `record` in its transaction; the web app shows the unread
count as a badge, lists the mentions on /mentions and marks them read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from flockdesk.domain.utc import utcnow
from flockdesk.store.schema import contacts, conversations, note_mentions, notes, users

nm = note_mentions.c


@dataclass(frozen=True, slots=True)
class Mention:
    note_id: int
    conversation_id: int
    author_username: str | None
    contact_name: str
    contact_username: str
    text: str
    created_at: datetime
    read_at: datetime | None


def record(
    conn: Connection, note_id: int, author_id: int | None, user_ids: list[int], now: datetime | None = None
) -> int:
    """Notify each mentioned user (not the author mentioning themself); returns how many were notified."""
    targets = [u for u in dict.fromkeys(user_ids) if u != author_id]
    if targets:
        at = now or utcnow()
        conn.execute(
            note_mentions.insert(), [{"note_id": note_id, "user_id": u, "created_at": at} for u in targets]
        )
    return len(targets)


def unread_count(engine: Engine, user_id: int) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count())
                .select_from(note_mentions)
                .where(nm.user_id == user_id, nm.read_at.is_(None))
            ).scalar_one()
        )


def list_for_user(
    engine: Engine, user_id: int, *, unread_only: bool = False, limit: int = 100
) -> list[Mention]:
    """Notes that mention this user, newest first."""
    author = users.alias("author")
    q = (
        sa.select(
            notes.c.id,
            notes.c.conversation_id,
            notes.c.text,
            notes.c.created_at,
            author.c.username,
            contacts.c.name,
            contacts.c.username.label("contact_username"),
            nm.read_at,
        )
        .select_from(
            note_mentions.join(notes, notes.c.id == nm.note_id)
            .join(conversations, conversations.c.id == notes.c.conversation_id)
            .outerjoin(author, author.c.id == notes.c.author_id)
            .outerjoin(contacts, contacts.c.id == conversations.c.contact_id)
        )
        .where(nm.user_id == user_id)
        .order_by(notes.c.created_at.desc(), notes.c.id.desc())
        .limit(max(1, min(limit, 500)))
    )
    if unread_only:
        q = q.where(nm.read_at.is_(None))
    with engine.connect() as conn:
        return [
            Mention(
                note_id=int(r.id),
                conversation_id=int(r.conversation_id),
                author_username=r.username,
                contact_name=r.name or "",
                contact_username=r.contact_username or "",
                text=r.text,
                created_at=r.created_at,
                read_at=r.read_at,
            )
            for r in conn.execute(q)
        ]


def mark_read(engine: Engine, user_id: int, note_id: int | None = None) -> int:
    """Mark one mention (or, without note_id, all of them) read for this user; returns how many changed."""
    cond = [nm.user_id == user_id, nm.read_at.is_(None)]
    if note_id is not None:
        cond.append(nm.note_id == note_id)
    with engine.begin() as conn:
        return int(conn.execute(note_mentions.update().where(*cond).values(read_at=utcnow())).rowcount or 0)


def mark_conversation_read(engine: Engine, user_id: int, conversation_id: int) -> int:
    """Opening a conversation reads the mentions in its notes."""
    in_conv = sa.select(notes.c.id).where(notes.c.conversation_id == conversation_id).scalar_subquery()
    with engine.begin() as conn:
        return int(
            conn.execute(
                note_mentions.update()
                .where(nm.user_id == user_id, nm.read_at.is_(None), nm.note_id.in_(in_conv))
                .values(read_at=utcnow())
            ).rowcount
            or 0
        )
