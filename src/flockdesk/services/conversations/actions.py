"""Actions on one conversation: assign, tag, note, snooze, resolve, reopen, follow up.

Each action runs in its own transaction and writes an audit event; those that change the
conversation's state go through the state machine (services/conversations/state.py), which also
writes its history row. Reading a conversation lives in conversation_view (re-exported here);
presence lives in services/team/presence.py.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from flockdesk.domain import conversation_state
from flockdesk.domain.errors import InvalidInput, conversation_not_found
from flockdesk.domain.utc import as_utc, utcnow
from flockdesk.domain.vocabulary import ConversationEventKind
from flockdesk.services.conversations import state as state_svc
from flockdesk.services.conversations.view import (
    ContactPanel,
    ConversationInfo,
    ConversationView,
    NoteInfo,
    ThreadItem,
    contact_panel,
    get_conversation,
)
from flockdesk.services.team import audit
from flockdesk.services.team import note_mentions as mentions_svc
from flockdesk.store.schema import conversation_tags, conversations, notes, tags, users

__all__ = [
    "ContactPanel",
    "ConversationInfo",
    "ConversationView",
    "NoteInfo",
    "ThreadItem",
    "add_note",
    "add_tag",
    "assign",
    "contact_panel",
    "follow_up",
    "get_conversation",
    "remove_tag",
    "reopen",
    "resolve",
    "self_assign",
    "snooze",
    "unassign",
    "wake_due",
]

TAG_RE = re.compile(r"^[\w][\w\- ]{0,63}$", re.UNICODE)
MENTION_RE = re.compile(r"(?<![\w@])@([A-Za-z0-9_.\-]{1,64})")
NOTE_MAX = 10_000


def _load(conn: Connection, conversation_id: int) -> Any:
    row = (
        conn.execute(sa.select(conversations).where(conversations.c.id == conversation_id)).mappings().first()
    )
    if row is None:
        raise conversation_not_found(conversation_id)
    return row


def assign(engine: Engine, conversation_id: int, user_id: int, assignee_id: int | None) -> None:
    """Give the conversation to a teammate (None unassigns)."""
    with engine.begin() as conn:
        actor = audit.actor_name(conn, user_id)
        before = state_svc.load(conn, conversation_id)
        if assignee_id is not None:
            target = conn.execute(sa.select(users.c.active).where(users.c.id == assignee_id)).first()
            if target is None or not target.active:
                raise InvalidInput(
                    f"user {assignee_id} does not exist or is disabled; pick an active teammate"
                )
        kind: ConversationEventKind = "unassign" if assignee_id is None else "assign"
        change = state_svc.apply(
            conn,
            conversation_id,
            kind,
            lambda state: conversation_state.assign(state, assignee_id),
            actor_id=user_id,
            before=before,
        )
        if not change.changed:
            return
        audit.record(
            conn,
            user_id,
            actor,
            f"conversation.{kind}",
            "conversation",
            conversation_id,
            {"from": before.assignee_id, "to": assignee_id},
        )


def self_assign(engine: Engine, conversation_id: int, user_id: int) -> None:
    assign(engine, conversation_id, user_id, user_id)


def unassign(engine: Engine, conversation_id: int, user_id: int) -> None:
    assign(engine, conversation_id, user_id, None)


def _tag_name(name: str) -> str:
    clean = " ".join(name.strip().lower().split())
    if not TAG_RE.match(clean):
        raise InvalidInput(
            f"tag {name!r} is not valid: use 1-64 letters, digits, spaces, '-' or '_', "
            "starting with a letter or digit"
        )
    return clean


def _set_tag(engine: Engine, conversation_id: int, user_id: int, name: str, *, on: bool) -> str:
    """Put the tag on (created on first use) or take it off; audited only when something changed."""
    clean = _tag_name(name)
    with engine.begin() as conn:
        actor = audit.actor_name(conn, user_id)
        _load(conn, conversation_id)
        tag_id = conn.execute(sa.select(tags.c.id).where(tags.c.name == clean)).scalar()
        if tag_id is None:
            if not on:
                return clean
            tag_id = conn.execute(tags.insert().values(name=clean, color="")).inserted_primary_key[0]  # type: ignore[index]
        link = (conversation_tags.c.conversation_id == conversation_id, conversation_tags.c.tag_id == tag_id)
        if on:
            changed = conn.execute(sa.select(conversation_tags.c.tag_id).where(*link)).first() is None
            if changed:
                conn.execute(
                    conversation_tags.insert().values(conversation_id=conversation_id, tag_id=tag_id)
                )
        else:
            changed = bool(conn.execute(conversation_tags.delete().where(*link)).rowcount)
        if changed:
            kind: ConversationEventKind = "tag" if on else "untag"
            # tags are not state columns, but who tagged what belongs in the timeline all the same
            state_svc.apply(
                conn,
                conversation_id,
                kind,
                lambda state: state,
                actor_id=user_id,
                detail={"tag": clean},
                record_unchanged=True,
            )
            audit.record(
                conn, user_id, actor, f"conversation.{kind}", "conversation", conversation_id, {"tag": clean}
            )
    return clean


def add_tag(engine: Engine, conversation_id: int, user_id: int, name: str) -> str:
    """Tag the conversation (the tag is created on first use); returns the normalised name."""
    return _set_tag(engine, conversation_id, user_id, name, on=True)


def remove_tag(engine: Engine, conversation_id: int, user_id: int, name: str) -> None:
    _set_tag(engine, conversation_id, user_id, name, on=False)


def mentioned_user_ids(conn: Connection, text: str) -> list[int]:
    """Active users @mentioned in the text, in order of first mention."""
    names = list(dict.fromkeys(m.lower() for m in MENTION_RE.findall(text)))
    if not names:
        return []
    rows = conn.execute(
        sa.select(users.c.id, users.c.username).where(
            sa.func.lower(users.c.username).in_(names), users.c.active.is_(True)
        )
    ).all()
    by_name = {r.username.lower(): int(r.id) for r in rows}
    return [by_name[n] for n in names if n in by_name]


def add_note(engine: Engine, conversation_id: int, user_id: int, text: str) -> NoteInfo:
    """An internal note (never sent); @username mentions of active teammates are stored."""
    body = text.strip()
    if not body:
        raise InvalidInput("the note is empty; write something for your teammates")
    if len(body) > NOTE_MAX:
        raise InvalidInput(f"the note is {len(body)} characters; keep it under {NOTE_MAX}")
    now = utcnow()
    with engine.begin() as conn:
        actor = audit.actor_name(conn, user_id)
        row = _load(conn, conversation_id)
        mentions = mentioned_user_ids(conn, body)
        note_id = conn.execute(
            notes.insert().values(
                conversation_id=conversation_id,
                contact_id=row["contact_id"],
                author_id=user_id,
                text=body,
                mentions=mentions,
                created_at=now,
            )
        ).inserted_primary_key[0]  # type: ignore[index]

        mentions_svc.record(conn, int(note_id), user_id, mentions, now)
        audit.record(
            conn,
            user_id,
            actor,
            "conversation.note",
            "conversation",
            conversation_id,
            {"note_id": note_id, "mentions": mentions},
        )
    return NoteInfo(int(note_id), conversation_id, user_id, actor, body, mentions, now)


def snooze(
    engine: Engine, conversation_id: int, user_id: int, until: datetime, *, now: datetime | None = None
) -> None:
    """Hide the conversation until `until`; wake_due reopens it then."""
    until = as_utc(until)
    if until <= (as_utc(now) if now else utcnow()):
        raise InvalidInput("the snooze time is in the past; pick a time in the future")
    with engine.begin() as conn:
        actor = audit.actor_name(conn, user_id)
        state_svc.apply(
            conn,
            conversation_id,
            "snooze",
            lambda state: conversation_state.snooze(state, until),
            actor_id=user_id,
        )
        audit.record(
            conn,
            user_id,
            actor,
            "conversation.snooze",
            "conversation",
            conversation_id,
            {"until": until.isoformat()},
        )


def _set_status(
    engine: Engine,
    conversation_id: int,
    user_id: int,
    kind: ConversationEventKind,
    transition: state_svc.Transition,
) -> None:
    with engine.begin() as conn:
        actor = audit.actor_name(conn, user_id)
        change = state_svc.apply(conn, conversation_id, kind, transition, actor_id=user_id)
        if not change.changed:
            return
        audit.record(
            conn,
            user_id,
            actor,
            f"conversation.{kind}",
            "conversation",
            conversation_id,
            {"from": change.before.status},
        )


def resolve(engine: Engine, conversation_id: int, user_id: int) -> None:
    _set_status(engine, conversation_id, user_id, "resolve", conversation_state.resolve)


def reopen(engine: Engine, conversation_id: int, user_id: int) -> None:
    _set_status(engine, conversation_id, user_id, "reopen", conversation_state.reopen)


def follow_up(
    engine: Engine, conversation_id: int, user_id: int, *, hours: float = 24, now: datetime | None = None
) -> datetime:
    """Put it away for `hours`; it comes back open in the assignee's Mine view (the actor if unassigned)."""
    if hours <= 0:
        raise InvalidInput("follow up needs a positive number of hours")
    due = (as_utc(now) if now else utcnow()) + timedelta(hours=hours)
    with engine.begin() as conn:
        actor = audit.actor_name(conn, user_id)
        before = state_svc.load(conn, conversation_id)
        assignee = before.assignee_id if before.assignee_id is not None else user_id
        state_svc.apply(
            conn,
            conversation_id,
            "follow_up",
            lambda state: conversation_state.follow_up(state, due, assignee),
            actor_id=user_id,
            before=before,
        )
        audit.record(
            conn,
            user_id,
            actor,
            "conversation.follow_up",
            "conversation",
            conversation_id,
            {"due": due.isoformat(), "assignee_id": assignee},
        )
    return due


def wake_due(engine: Engine, now: datetime | None = None) -> int:
    """Reopen every snoozed conversation whose time has come (snoozes and follow-ups); returns how many."""
    at = as_utc(now) if now else utcnow()
    c = conversations.c
    woken = 0
    with engine.begin() as conn:
        due = conn.execute(
            sa.select(c.id, c.follow_up_at).where(c.status == "snoozed", c.snoozed_until <= at)
        ).all()
        for row in due:
            kind = "follow_up_due" if row.follow_up_at is not None else "snooze_due"
            change = state_svc.apply(
                conn,
                row.id,
                "wake",
                lambda state: conversation_state.wake(state, at),
                at=at,
                detail={"due": kind},
            )
            if not change.changed:  # re-snoozed or resolved since the list was read
                continue
            woken += 1
            audit.record(
                conn,
                None,
                "system",
                f"conversation.{kind}",
                "conversation",
                row.id,
                {
                    "assignee_id": change.after.assignee_id,
                    "follow_up_at": str(row.follow_up_at) if row.follow_up_at else None,
                },
                at=at,  # the history row's time, so the audit log lists the two together
            )
    return woken
