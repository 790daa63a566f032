"""Saved replies with variables, managed by managers and admins, rendered by a tiny safe renderer.

Why a regex and not Jinja2: a saved reply only needs to drop a few plain-text values in place. A
single-pass regex substitution evaluates no expressions, filters, attribute lookups or loops (even
Jinja2's sandbox still runs those), never re-reads a substituted value (a contact named
"{{agent.name}}" stays that text), and lets us name every unknown variable when the reply is saved.
The rendered text is plain text; escaping happens in the browser templates (autoescape).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from flockdesk.domain.errors import InvalidInput, NotFound
from flockdesk.domain.utc import utcnow
from flockdesk.services.team import audit
from flockdesk.store.schema import accounts, contacts, conversations, saved_replies, users

VARIABLES = ("contact.name", "contact.username", "agent.first_name", "agent.name", "org.name")
PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
NAME_MAX = 100
BODY_MAX = 10_000


@dataclass(frozen=True, slots=True)
class SavedReply:
    id: int
    name: str
    body: str
    created_by: int | None
    created_at: datetime | None
    updated_at: datetime | None


def unknown_variables(body: str) -> list[str]:
    return sorted({v for v in PLACEHOLDER.findall(body) if v not in VARIABLES})


def validate(name: str, body: str) -> tuple[str, str]:
    name = " ".join(name.split())
    if not name or len(name) > NAME_MAX:
        raise InvalidInput(f"give the saved reply a name of 1-{NAME_MAX} characters")
    if not body.strip() or len(body) > BODY_MAX:
        raise InvalidInput(f"the saved reply's text must be 1-{BODY_MAX} characters")
    unknown = unknown_variables(body)
    if unknown:
        raise InvalidInput(
            "unknown variable(s) "
            + ", ".join("{{" + u + "}}" for u in unknown)
            + "; use only "
            + ", ".join("{{" + v + "}}" for v in VARIABLES)
        )
    return name, body


def render(body: str, values: dict[str, str]) -> str:
    """Put each variable's plain-text value in place (single pass; values are never re-read)."""

    def sub(match: re.Match[str]) -> str:
        var = match.group(1)
        if var not in VARIABLES:
            raise InvalidInput(f"unknown variable {{{{{var}}}}}; use only " + ", ".join(VARIABLES))
        return values.get(var, "")

    return PLACEHOLDER.sub(sub, body)


def _row(r: Any) -> SavedReply:
    return SavedReply(r["id"], r["name"], r["body"], r["created_by"], r["created_at"], r["updated_at"])


def _require_manager(conn: Connection, user_id: int) -> str:
    return audit.manager_name(conn, user_id, "manage saved replies; ask one of them")


def list_saved_replies(engine: Engine) -> list[SavedReply]:
    with engine.connect() as conn:
        return [
            _row(r) for r in conn.execute(sa.select(saved_replies).order_by(saved_replies.c.name)).mappings()
        ]


def get_saved_reply(engine: Engine, saved_reply_id: int) -> SavedReply:
    with engine.connect() as conn:
        r = (
            conn.execute(sa.select(saved_replies).where(saved_replies.c.id == saved_reply_id))
            .mappings()
            .first()
        )
    if r is None:
        raise NotFound(f"saved reply {saved_reply_id} does not exist")
    return _row(r)


def _duplicate(name: str) -> InvalidInput:
    return InvalidInput(f"a saved reply named {name!r} already exists; pick another name")


def create(engine: Engine, user_id: int, name: str, body: str) -> SavedReply:
    name, body = validate(name, body)
    now = utcnow()
    try:
        with engine.begin() as conn:
            actor = _require_manager(conn, user_id)
            if conn.execute(sa.select(saved_replies.c.id).where(saved_replies.c.name == name)).first():
                raise _duplicate(name)
            new_id = conn.execute(
                saved_replies.insert().values(
                    name=name, body=body, created_by=user_id, created_at=now, updated_at=now
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            audit.record(conn, user_id, actor, "saved_reply.create", "saved_reply", new_id, {"name": name})
    except IntegrityError as exc:
        raise _duplicate(name) from exc
    return get_saved_reply(engine, int(new_id))


def update(
    engine: Engine, user_id: int, saved_reply_id: int, *, name: str | None = None, body: str | None = None
) -> SavedReply:
    current = get_saved_reply(engine, saved_reply_id)
    name, body = validate(current.name if name is None else name, current.body if body is None else body)
    try:
        with engine.begin() as conn:
            actor = _require_manager(conn, user_id)
            clash = conn.execute(
                sa.select(saved_replies.c.id).where(
                    saved_replies.c.name == name, saved_replies.c.id != saved_reply_id
                )
            ).first()
            if clash:
                raise _duplicate(name)
            conn.execute(
                saved_replies.update()
                .where(saved_replies.c.id == saved_reply_id)
                .values(name=name, body=body, updated_at=utcnow())
            )
            audit.record(
                conn, user_id, actor, "saved_reply.update", "saved_reply", saved_reply_id, {"name": name}
            )
    except IntegrityError as exc:
        raise _duplicate(name) from exc
    return get_saved_reply(engine, saved_reply_id)


def delete(engine: Engine, user_id: int, saved_reply_id: int) -> None:
    with engine.begin() as conn:
        actor = _require_manager(conn, user_id)
        done = conn.execute(saved_replies.delete().where(saved_replies.c.id == saved_reply_id))
        if not done.rowcount:
            raise NotFound(f"saved reply {saved_reply_id} does not exist")
        audit.record(conn, user_id, actor, "saved_reply.delete", "saved_reply", saved_reply_id, None)


def values_for(engine: Engine, conversation_id: int | None, agent_user_id: int) -> dict[str, str]:
    """The variables' values for this agent answering this conversation."""
    with engine.connect() as conn:
        agent = conn.execute(
            sa.select(users.c.username, users.c.name).where(users.c.id == agent_user_id)
        ).first()
        if agent is None:
            raise NotFound(f"user {agent_user_id} does not exist")
        full = (agent.name or "").strip() or agent.username
        values = {
            "agent.name": full,
            "agent.first_name": full.split()[0],
            "contact.name": "",
            "contact.username": "",
            "org.name": "",
        }
        if conversation_id is not None:
            c = conversations.c
            r = conn.execute(
                sa.select(
                    contacts.c.name,
                    contacts.c.username,
                    accounts.c.display_name,
                    accounts.c.username.label("acct"),
                )
                .select_from(
                    conversations.join(accounts, accounts.c.id == c.account_id).outerjoin(
                        contacts, contacts.c.id == c.contact_id
                    )
                )
                .where(c.id == conversation_id)
            ).first()
            if r is None:
                raise NotFound(f"conversation {conversation_id} does not exist")
            values.update(
                {
                    "contact.name": r.name or r.username or "",
                    "contact.username": r.username or "",
                    "org.name": r.display_name or r.acct or "",
                }
            )
    return values


def render_for(engine: Engine, body: str, conversation_id: int | None, agent_user_id: int) -> str:
    """Render a saved reply's body (or a draft, for the preview) for this conversation and agent."""
    return render(body, values_for(engine, conversation_id, agent_user_id))
