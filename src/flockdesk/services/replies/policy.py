"""Asking the platform's policy (connectors/<platform>/policy.py) about an outbound action.

The services gather the facts from the store and the platform's policy decides (domain/policy.py):
- a public reply or acknowledgement: did the post answered summon the account? Its
  `mentions_account` flag and kind (`quote`) say so, as ingest decided from its content
  (services/ingest/rules.py); a message stored before that flag existed is judged from its kind, the
  user it answered and the @handle in its text;
- a DM: did the person DM the account first (an inbound DM from them in any DM conversation of the
  account)? Did they opt out, and did they write again since?
- an automation: has one already answered this interaction?

`compose.py` and `move_to_dm.py` ask before they queue; the outbox (`outbox.py`) asks again before it
sends, so a row that slipped past (queued before the rules, or made by hand) is refused with the
reason instead of being sent to a platform that would refuse it. At the outbox a target the store
does not know (a post or person never ingested) is left to the services that made the row.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from flockdesk.connectors import registry
from flockdesk.domain.errors import PolicyRefused
from flockdesk.domain.opt_out import is_opt_out
from flockdesk.domain.policy import Action, Decision, Facts
from flockdesk.domain.utc import as_utc
from flockdesk.domain.vocabulary import OutboxOrigin
from flockdesk.store.schema import accounts, contacts, conversations, messages, outbox

OPT_OUT_ACK_KEY = "opt-out-ack:"  # idempotency key prefix of the one automated opt-out acknowledgement


def _handle_in_text(text: str, handle: str) -> bool:
    if not handle:
        return False
    pattern = rf"(?<![\w@])@{re.escape(handle.lstrip('@'))}(?!\w)"
    return re.search(pattern, text, re.IGNORECASE) is not None


def _account(conn: Connection, account_id: int) -> Mapping[Any, Any]:
    row = (
        conn.execute(
            sa.select(accounts.c.platform, accounts.c.external_user_id, accounts.c.username).where(
                accounts.c.id == account_id
            )
        )
        .mappings()
        .one()
    )
    return row


def summoned(message: Mapping[Any, Any], account_user_id: str, account_handle: str) -> bool:
    """Whether this stored customer post summoned the account (mentioned it or quoted its post)."""
    if message["kind"] == "quote":
        return True
    if message["mentions_account"] is not None:
        return bool(message["mentions_account"])
    # stored before ingest recorded the flag: judge from what was kept
    return (
        message["kind"] == "mention"
        or message["in_reply_to_user_id"] == account_user_id
        or _handle_in_text(message["text"], account_handle)
    )


def _post(conn: Connection, platform: str, external_id: str) -> Mapping[Any, Any] | None:
    m = messages.c
    return (
        conn.execute(
            sa.select(m.kind, m.mentions_account, m.in_reply_to_user_id, m.text, m.direction).where(
                m.platform == platform, m.external_id == external_id
            )
        )
        .mappings()
        .first()
    )


def _contact(conn: Connection, platform: str, external_id: str) -> Mapping[Any, Any] | None:
    return (
        conn.execute(
            sa.select(contacts.c.id, contacts.c.opted_out_at).where(
                contacts.c.platform == platform, contacts.c.external_id == external_id
            )
        )
        .mappings()
        .first()
    )


def _latest_dm_from(conn: Connection, account_id: int, contact_id: int) -> datetime | None:
    """When the person's newest DM to the account was written (None: they never DMed it)."""
    latest = conn.execute(
        sa.select(sa.func.max(messages.c.created_at))
        .select_from(messages.join(conversations, conversations.c.id == messages.c.conversation_id))
        .where(
            conversations.c.account_id == account_id,
            conversations.c.kind == "dm",
            conversations.c.contact_id == contact_id,
            messages.c.direction == "in",
        )
    ).scalar()
    return as_utc(latest) if latest is not None else None


def _wrote_after(conn: Connection, account_id: int, contact_id: int, since: datetime) -> bool:
    """Whether the person sent the account a DM after `since` that is not one more opt-out."""
    texts = conn.execute(
        sa.select(messages.c.text)
        .select_from(messages.join(conversations, conversations.c.id == messages.c.conversation_id))
        .where(
            conversations.c.account_id == account_id,
            conversations.c.kind == "dm",
            conversations.c.contact_id == contact_id,
            messages.c.direction == "in",
            messages.c.created_at > since,
        )
        .limit(50)
    ).scalars()
    return any(not is_opt_out(t) for t in texts)


def _automated_before(conn: Connection, conversation_id: int | None, in_reply_to: str | None) -> int:
    if conversation_id is None:
        return 0
    q = sa.select(sa.func.count()).where(
        outbox.c.conversation_id == conversation_id,
        outbox.c.origin == "automated",
        outbox.c.status != "failed",
    )
    if in_reply_to is not None:
        q = q.where(outbox.c.in_reply_to_external_id == in_reply_to)
    return int(conn.execute(q).scalar() or 0)


def public_facts(
    conn: Connection,
    account_id: int,
    target_post_id: str,
    text: str,
    *,
    origin: OutboxOrigin = "agent",
    by_person: bool = True,
    conversation_id: int | None = None,
) -> tuple[Facts, bool]:
    """The facts of a public answer to `target_post_id`, and whether the store knows that post."""
    acct = _account(conn, account_id)
    post = _post(conn, acct["platform"], target_post_id)
    is_summoned = post is not None and summoned(post, acct["external_user_id"], acct["username"] or "")
    facts = Facts(
        origin=origin,
        by_person=by_person,
        target_post_id=target_post_id,
        summoned=is_summoned,
        automated_replies_before=_automated_before(conn, conversation_id, target_post_id)
        if origin == "automated"
        else 0,
        text=text,
    )
    return facts, post is not None


def dm_facts(
    conn: Connection,
    account_id: int,
    recipient_id: str,
    text: str,
    *,
    origin: OutboxOrigin = "agent",
    by_person: bool = True,
    opt_out_ack: bool = False,
    conversation_id: int | None = None,
) -> tuple[Facts, bool]:
    """The facts of a DM to `recipient_id`, and whether the store knows that person."""
    acct = _account(conn, account_id)
    person = _contact(conn, acct["platform"], recipient_id)
    latest = _latest_dm_from(conn, account_id, int(person["id"])) if person is not None else None
    opted = as_utc(person["opted_out_at"]) if person is not None and person["opted_out_at"] else None
    wrote_again = (
        person is not None
        and opted is not None
        and latest is not None
        and latest > opted
        and _wrote_after(conn, account_id, int(person["id"]), opted)
    )
    facts = Facts(
        origin=origin,
        by_person=by_person,
        recipient_id=recipient_id,
        customer_started_dm=latest is not None,
        opted_out=opted is not None,
        wrote_after_opt_out=wrote_again,
        opt_out_ack=opt_out_ack,
        automated_replies_before=_automated_before(conn, conversation_id, None)
        if origin == "automated" and not opt_out_ack
        else 0,
        text=text,
    )
    return facts, person is not None


def decide(conn: Connection, account_id: int, action: Action, facts: Facts) -> Decision:
    return registry.profile(_account(conn, account_id)["platform"]).decide(action, facts)


def refuse_unless_allowed(decision: Decision) -> None:
    """Raise the policy's refusal (with its native link) unless the action may use the API."""
    if not decision.allowed:
        raise PolicyRefused(decision.verdict, decision.reason, decision.message, decision.native_link)


def ask(
    conn: Connection, ctx: dict[str, Any], kind: str, text: str, *, origin: OutboxOrigin = "agent"
) -> Decision:
    """The platform policy's decision on a person answering this conversation with `text` (an outbox
    kind); `origin` is `ai_draft` when the text began as a model's draft."""
    if kind == "dm":
        facts, _ = dm_facts(
            conn,
            ctx["account_id"],
            ctx["contact_external_id"],
            text,
            origin=origin,
            conversation_id=ctx["id"],
        )
        return decide(conn, ctx["account_id"], "dm", facts)
    facts, _ = public_facts(
        conn, ctx["account_id"], ctx["latest_in"].external_id, text, origin=origin, conversation_id=ctx["id"]
    )
    return decide(conn, ctx["account_id"], "public_ack" if kind == "public_ack" else "public_reply", facts)


def for_row(conn: Connection, row: Mapping[Any, Any]) -> Decision | None:
    """The outbox's last check of a row about to be sent: the decision, or None when the store does
    not know the row's target (the service that queued it asked the policy then)."""
    origin: OutboxOrigin = row.get("origin") or "agent"
    by_person = row.get("created_by") is not None or origin == "automated"
    if row["kind"] == "dm":
        if not row["recipient_external_id"]:
            return None
        facts, known = dm_facts(
            conn,
            row["account_id"],
            row["recipient_external_id"],
            row["text"],
            origin=origin,
            by_person=by_person,
            opt_out_ack=str(row["idempotency_key"]).startswith(OPT_OUT_ACK_KEY),
        )
        return decide(conn, row["account_id"], "dm", facts) if known else None
    if not row["in_reply_to_external_id"]:
        return None
    facts, known = public_facts(
        conn,
        row["account_id"],
        row["in_reply_to_external_id"],
        row["text"],
        origin=origin,
        by_person=by_person,
    )
    action: Action = "public_ack" if row["kind"] == "public_ack" else "public_reply"
    return decide(conn, row["account_id"], action, facts) if known else None


def check_row(engine: Engine, row: Mapping[Any, Any]) -> Decision | None:
    with engine.connect() as conn:
        return for_row(conn, row)
