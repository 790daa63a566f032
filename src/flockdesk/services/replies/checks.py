"""The safety checks a reply goes through before it becomes an outbox row (rules in domain/rules.py).

- the conversation's context: kind, account, contact, latest inbound post;
- the DM texts a public text must not repeat: every DM of the contact (both directions, queued ones
  included), the account's most recent DMs received from anyone (RECENT_DM_LIMIT), and the team's own
  recent DMs to anyone that carry personal data (an address, an order number: what a DM to one
  customer says about them never goes out in another customer's thread). The team's DMs without
  personal data (stock phrases) stay usable in public. No override lifts this rule: the guard override
  is for the guard's warning only;
- the reply guard (flockdesk.triage.check_reply) on public text, refused unless overridden; the
  account's own contact details (services/accounts/org_contacts.py) are not personal data to it.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from flockdesk.domain import rules
from flockdesk.domain.errors import GuardFlagged, ReplyRefused, conversation_not_found
from flockdesk.services.accounts.org_contacts import OrgContacts
from flockdesk.store.schema import accounts, contacts, conversations, messages, outbox
from flockdesk.triage import check_reply, sensitive_kinds

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
                accounts.c.org_contacts,
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
    # the organisation's own phones, emails and URLs: a public reply may give them
    ctx["org_contacts"] = OrgContacts.from_json(ctx["org_contacts"]).flat()
    ctx["latest_in"] = conn.execute(
        sa.select(messages.c.id, messages.c.external_id, messages.c.transport)
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


def team_dms_with_personal_data(conn: Connection, account_id: int, public_text: str) -> list[str]:
    """The account's recent DMs to anyone (queued, sent or failed outbox rows, and outbound DMs that came
    back from the platform) that this public text repeats and that carry personal data. Only the DMs the
    text repeats are classified, so the personal-data scan runs on a handful of texts, not thousands."""
    queued = (
        sa.select(outbox.c.text)
        .where(outbox.c.account_id == account_id, outbox.c.kind == "dm")
        .order_by(outbox.c.id.desc())
        .limit(RECENT_DM_LIMIT)
    )
    sent = (
        sa.select(messages.c.text)
        .select_from(messages.join(conversations, conversations.c.id == messages.c.conversation_id))
        .where(
            conversations.c.kind == "dm",
            conversations.c.account_id == account_id,
            messages.c.direction == "out",
        )
        .order_by(messages.c.id.desc())
        .limit(RECENT_DM_LIMIT)
    )
    texts = {r[0] for r in conn.execute(queued)} | {r[0] for r in conn.execute(sent)}
    return [t for t in texts if rules.dm_leak(public_text, [t]) is not None and sensitive_kinds(t)]


def dm_texts_for(conn: Connection, ctx: dict[str, Any], public_text: str) -> list[str]:
    """DM texts this public text of this conversation must not repeat: every DM of its contact, the
    account's recent DMs received from anyone, and the team's recent DMs to anyone that carry personal
    data."""
    return (
        dm_texts_of_contact(conn, ctx["contact_id"], ctx["contact_external_id"])
        + recent_dm_texts(conn, ctx["account_id"])
        + team_dms_with_personal_data(conn, ctx["account_id"], public_text)
    )


def refuse(v: rules.Violation | None) -> None:
    if v is not None:
        raise ReplyRefused(v.reason, v.message)


def check_public(conn: Connection, ctx: dict[str, Any], text: str, override_guard: bool) -> Any:
    """Run the DM-leak rule (never overridable) and the guard on a public text; returns the guard's
    check if the agent overrode it."""
    refuse(rules.dm_leak(text, dm_texts_for(conn, ctx, text)))
    check = check_reply(text, ctx.get("org_contacts") or ())
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
