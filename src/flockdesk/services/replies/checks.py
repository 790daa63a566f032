"""The safety checks a reply goes through before it becomes an outbox row (rules in domain/rules.py).

- the conversation's context: kind, account, contact, latest inbound post;
- the DM texts a public text must not repeat: every DM of the contact (both directions, queued ones
  included), and the account's most recent DMs received from anyone (RECENT_DM_LIMIT);
- the reply guard (flockdesk.triage.check_reply) on public text, refused unless overridden.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from flockdesk.domain import rules
from flockdesk.domain.errors import GuardFlagged, ReplyRefused, conversation_not_found
from flockdesk.store.schema import accounts, contacts, conversations, messages, outbox

DM_HISTORY_LIMIT = 2000
RECENT_DM_LIMIT = 2000


def load_context(conn: Connection, conversation_id: int) -> dict[str, Any]:
    c = conversations.c
    r = (
        conn.execute(
            sa.select(
                c.id,
                c.kind,
                c.account_id,
                c.platform,
                c.contact_id,
                c.assignee_id,
                accounts.c.external_user_id.label("account_user_id"),
                contacts.c.external_id.label("contact_external_id"),
            )
            .select_from(
                conversations.join(accounts, accounts.c.id == c.account_id).outerjoin(
                    contacts, contacts.c.id == c.contact_id
                )
            )
            .where(c.id == conversation_id)
        )
        .mappings()
        .first()
    )
    if r is None:
        raise conversation_not_found(conversation_id)
    ctx = dict(r)
    ctx["latest_in"] = conn.execute(
        sa.select(messages.c.id, messages.c.external_id)
        .where(messages.c.conversation_id == conversation_id, messages.c.direction == "in")
        .order_by(messages.c.created_at.desc(), messages.c.id.desc())
        .limit(1)
    ).first()
    return ctx


def dm_texts_of_contact(
    conn: Connection, contact_id: int | None, contact_external_id: str | None
) -> list[str]:
    """Every DM text of this contact, both directions, sent or still queued."""
    texts: list[str] = []
    if contact_id is not None:
        dm_convs = sa.select(conversations.c.id).where(
            conversations.c.kind == "dm", conversations.c.contact_id == contact_id
        )
        texts += [
            r[0]
            for r in conn.execute(
                sa.select(messages.c.text)
                .where(messages.c.conversation_id.in_(dm_convs))
                .order_by(messages.c.id.desc())
                .limit(DM_HISTORY_LIMIT)
            )
        ]
        cond: Any = outbox.c.conversation_id.in_(dm_convs)
        if contact_external_id:
            cond = sa.or_(cond, outbox.c.recipient_external_id == contact_external_id)
        texts += [
            r[0]
            for r in conn.execute(
                sa.select(outbox.c.text)
                .where(outbox.c.kind == "dm", cond)
                .order_by(outbox.c.id.desc())
                .limit(DM_HISTORY_LIMIT)
            )
        ]
    return texts


def recent_dm_texts(conn: Connection, account_id: int) -> list[str]:
    """The account's most recent DMs received from anyone: the private texts an agent has just read and
    could paste into a public reply by mistake. The team's own DMs to other people are left out: they are
    the agents' words (often stock phrases such as "Thanks, we're looking into it"), and blocking them
    would lock a stock phrase out of public replies; DMs to this conversation's own contact, in both
    directions, are covered by dm_texts_of_contact."""
    dm_msgs = (
        sa.select(messages.c.text)
        .select_from(messages.join(conversations, conversations.c.id == messages.c.conversation_id))
        .where(
            conversations.c.kind == "dm",
            conversations.c.account_id == account_id,
            messages.c.direction == "in",
        )
        .order_by(messages.c.id.desc())
        .limit(RECENT_DM_LIMIT)
    )
    return [r[0] for r in conn.execute(dm_msgs)]


def dm_texts_for(conn: Connection, ctx: dict[str, Any]) -> list[str]:
    """DM texts a public text of this conversation must not repeat: every DM of its contact, and the
    account's recent DMs received from anyone."""
    return dm_texts_of_contact(conn, ctx["contact_id"], ctx["contact_external_id"]) + recent_dm_texts(
        conn, ctx["account_id"]
    )


def refuse(v: rules.Violation | None) -> None:
    if v is not None:
        raise ReplyRefused(v.reason, v.message)


def run_guard(text: str) -> Any:
    try:
        from flockdesk.triage import check_reply
    except ImportError as exc:  # pragma: no cover - triage ships with flockdesk
        raise RuntimeError(
            "the reply guard (flockdesk.triage.check_reply) is not installed; "
            "public replies cannot be checked, so none are queued"
        ) from exc
    return check_reply(text)


def check_public(conn: Connection, ctx: dict[str, Any], text: str, override_guard: bool) -> Any:
    """Run the DM-leak rule and the guard on a public text; returns the guard's check if overridden."""
    refuse(rules.dm_leak(text, dm_texts_for(conn, ctx)))
    check = run_guard(text)
    flagged = bool(check.asks_for_sensitive or check.contains_sensitive)
    if flagged and not override_guard:
        raise GuardFlagged(f"the reply guard flagged this public reply: {check.advice}", check)
    return check if flagged else None


def check_dict(check: Any) -> dict[str, Any]:
    return {
        "asks_for_sensitive": bool(check.asks_for_sensitive),
        "contains_sensitive": list(check.contains_sensitive),
        "advice": str(check.advice),
    }
