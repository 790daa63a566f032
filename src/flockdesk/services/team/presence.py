"""Who is viewing or typing in a conversation, for the collision warning.

Kept in the store (`presence`), so every web process sees every viewer. Entries expire: a viewer
after VIEW_TTL without a heartbeat, typing after TYPING_TTL. Expired rows are ignored when read and
removed by the worker's `team.presence_purge` job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.domain.errors import conversation_not_found
from flockdesk.domain.utc import as_utc, utcnow
from flockdesk.store.dialect import upsert
from flockdesk.store.schema import conversations
from flockdesk.store.schema import presence as presence_t

VIEW_TTL = timedelta(seconds=30)
TYPING_TTL = timedelta(seconds=8)


@dataclass(frozen=True, slots=True)
class Presence:
    user_id: int
    username: str
    typing: bool
    seen_at: datetime


def touch(
    engine: Engine,
    conversation_id: int,
    user_id: int,
    username: str,
    *,
    typing: bool = False,
    now: datetime | None = None,
) -> None:
    """The user views the conversation (and types in it when `typing`); a view without typing keeps
    an earlier typing mark until it expires."""
    at = as_utc(now) if now else utcnow()
    p = presence_t.c
    with engine.begin() as conn:
        exists = conn.execute(
            sa.select(conversations.c.id).where(conversations.c.id == conversation_id)
        ).first()
        if exists is None:
            raise conversation_not_found(conversation_id)
        ins = upsert(conn, presence_t).values(
            conversation_id=conversation_id,
            user_id=user_id,
            username=username,
            seen_at=at,
            typing_at=at if typing else None,
        )
        update = {"username": ins.excluded.username, "seen_at": ins.excluded.seen_at}
        if typing:
            update["typing_at"] = ins.excluded.typing_at
        conn.execute(ins.on_conflict_do_update(index_elements=[p.conversation_id, p.user_id], set_=update))


def leave(engine: Engine, conversation_id: int, user_id: int) -> None:
    p = presence_t.c
    with engine.begin() as conn:
        conn.execute(presence_t.delete().where(p.conversation_id == conversation_id, p.user_id == user_id))


def others(
    engine: Engine, conversation_id: int, user_id: int | None, now: datetime | None = None
) -> list[Presence]:
    """Everyone else present in the conversation, typists first."""
    at = as_utc(now) if now else utcnow()
    p = presence_t.c
    q = sa.select(p.user_id, p.username, p.seen_at, p.typing_at).where(
        p.conversation_id == conversation_id, p.seen_at >= at - VIEW_TTL
    )
    if user_id is not None:
        q = q.where(p.user_id != user_id)
    with engine.connect() as conn:
        rows = conn.execute(q).all()
    found = [
        Presence(
            int(r.user_id),
            r.username,
            r.typing_at is not None and at - r.typing_at <= TYPING_TTL,
            r.seen_at,
        )
        for r in rows
    ]
    return sorted(found, key=lambda x: (not x.typing, x.username))


def purge_expired(engine: Engine, now: datetime | None = None) -> int:
    """Remove viewers gone for longer than VIEW_TTL; returns how many."""
    at = as_utc(now) if now else utcnow()
    with engine.begin() as conn:
        return int(conn.execute(presence_t.delete().where(presence_t.c.seen_at < at - VIEW_TTL)).rowcount)
