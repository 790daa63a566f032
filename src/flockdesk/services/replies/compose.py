"""Replying: every outbound message is an outbox row, checked against the safety rules first.

- A DM conversation is answered by a DM to the contact, a public one by a reply to its latest
  inbound post (domain/rules.py); nothing else can be queued here.
- Public text runs the reply guard (triage.check_reply); a flagged reply is refused unless the agent
  overrides, and the override is audited. Public text may never repeat a DM of that contact (whole
  history), one of the account's recent DMs received from anyone (RECENT_DM_LIMIT), nor one of the
  team's recent DMs to anyone that carries personal data; no override lifts this rule.
- The platform's policy is asked first (services/replies/policy.py): a public reply goes through the
  API only to a post that summoned the account, a DM only to someone who DMed first and has not
  opted out. Otherwise the reply is refused with the policy's reason (PolicyRefused) and, where a
  person may do it on the platform, the link to do so: for a post, `native.draft_native_reply` keeps
  the drafted text as a `native_reply` row that is matched when the person's post comes back.
- Idempotency keys are unique: a double-click (same key, or without one the same text to the same
  latest message) returns the row already queued. The sender (services/replies/outbox.py) sends each row once.
- Rows are made by services/replies/outbox.py (`enqueue`, `retry_in`), through services/replies/rows.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping

from flockdesk.domain import rules
from flockdesk.domain.errors import Conflict, InvalidInput, ReplyRefused
from flockdesk.domain.vocabulary import OutboxOrigin
from flockdesk.services.replies import outbox as outbox_svc
from flockdesk.services.replies import policy
from flockdesk.services.replies.checks import check_public, dm_texts_for, load_context, refuse
from flockdesk.services.replies.move_to_dm import move_to_dm
from flockdesk.services.replies.rows import (
    OutboxRow,
    audit_override,
    by_key,
    clean_key,
    derived_key,
    get_outbox,
    insert,
    row_by_id,
    with_retry_on_race,
)
from flockdesk.services.team import audit

MAX_QUICK_REPLIES = 10
MAX_QUICK_REPLY_LABEL = 36

__all__ = [
    "OutboxRow",
    "get_outbox",
    "move_to_dm",
    "queue_reply",
    "retry",
]


def quick_reply_request(options: Sequence[str]) -> dict[str, Any] | None:
    """X Chat's quick-reply request offering these labels (None: no options)."""
    labels = [o.strip() for o in options if o.strip()]
    if not labels:
        return None
    if len(labels) > MAX_QUICK_REPLIES or any(len(o) > MAX_QUICK_REPLY_LABEL for o in labels):
        raise InvalidInput(
            f"offer at most {MAX_QUICK_REPLIES} quick replies of up to {MAX_QUICK_REPLY_LABEL} characters"
        )
    return {
        "request": {
            "options": {
                "id": uuid.uuid4().hex[:12],
                "options": [{"id": f"o{i}", "label": label} for i, label in enumerate(labels, 1)],
            }
        }
    }


def _queue(
    conn: Connection,
    conversation_id: int,
    user_id: int,
    text: str,
    override_guard: bool,
    key: str | None,
    quick_replies: Sequence[str] = (),
    ai_drafted: bool = False,
) -> OutboxRow:
    actor = audit.actor_name(conn, user_id)
    ctx = load_context(conn, conversation_id)
    kind = rules.outbox_kind_for(ctx["kind"])
    refuse(rules.channel_violation(ctx["kind"], kind))
    refuse(rules.length_violation(text, kind))
    latest = ctx["latest_in"]
    key = key or derived_key(conversation_id, user_id, latest.id if latest else "", text)
    existing = by_key(conn, key)
    if existing is not None:
        return _same_or_conflict(existing, conversation_id, text)
    check = None
    if kind == "dm" and not ctx["contact_external_id"]:
        raise ReplyRefused("no_recipient", "this DM conversation has no contact to write to")
    if kind != "dm" and latest is None:
        raise ReplyRefused("nothing_to_reply_to", "this conversation has no inbound post to reply to")
    origin: OutboxOrigin = "ai_draft" if ai_drafted else "agent"
    policy.refuse_unless_allowed(policy.ask(conn, ctx, kind, text, origin=origin))
    # a DM goes back on the transport the customer used last (their latest message)
    transport = ((latest.transport if latest is not None else None) or "legacy") if kind == "dm" else None
    quick = quick_reply_request(quick_replies)
    if quick is not None and transport != "xchat":
        raise ReplyRefused("no_quick_replies", "quick replies can only be offered in an X Chat conversation")
    if kind != "dm":
        check = check_public(conn, ctx, text, override_guard)
    row = insert(
        conn,
        key=key,
        user_id=user_id,
        ctx=ctx,
        kind=kind,
        text=text,
        in_reply_to=latest.external_id if kind != "dm" and latest else None,
        recipient=ctx["contact_external_id"] if kind == "dm" else None,
        conversation_id=conversation_id,
        transport=transport,
        quick_reply=quick,
        origin=origin,
    )
    audit_override(conn, user_id, actor, row, conversation_id, check)
    audit.record(
        conn,
        user_id,
        actor,
        "reply.queue",
        "outbox",
        row.id,
        {
            "conversation_id": conversation_id,
            "kind": row.kind,
            "transport": row.transport,
            # the text started as a model's suggestion (services/replies/assist.py) that this person sent
            **({"ai_drafted": True} if ai_drafted else {}),
        },
    )
    return row


def _same_or_conflict(existing: OutboxRow, conversation_id: int, text: str) -> OutboxRow:
    if existing.conversation_id != conversation_id or existing.text != text:
        raise Conflict("this idempotency key was already used for a different message; send with a new key")
    return existing


def queue_reply(
    engine: Engine,
    conversation_id: int,
    user_id: int,
    text: str,
    *,
    override_guard: bool = False,
    idempotency_key: str | None = None,
    quick_replies: Sequence[str] = (),
    ai_drafted: bool = False,
) -> OutboxRow:
    """Queue the answer to a conversation: a DM for a DM conversation (on the transport the customer
    used last; in X Chat with `quick_replies` offered if given), a reply post for a public one.
    `ai_drafted`: the text began as a model's draft that this person read and sent; the row's origin
    is `ai_draft` and the audit says so. The guard and the policy run on it like any reply."""
    key = clean_key(idempotency_key)
    return with_retry_on_race(
        engine,
        lambda conn: _queue(
            conn, conversation_id, user_id, text, override_guard, key, quick_replies, ai_drafted
        ),
    )


def retry(engine: Engine, outbox_id: int, user_id: int) -> OutboxRow:
    """Queue a failed row again as a new row (new key), through the outbox's guarded retry: a message
    has at most one live attempt, so a double retry returns the attempt already queued. The failed
    row stays as it was, for the record."""

    def still_allowed(old: RowMapping, conn: Connection) -> None:
        if old["conversation_id"] is None:
            raise ReplyRefused("no_conversation", "this message has no conversation; write a new one instead")
        ctx = load_context(conn, old["conversation_id"])
        refuse(rules.channel_violation(ctx["kind"], old["kind"]))
        decision = policy.for_row(conn, old)
        if decision is not None:
            policy.refuse_unless_allowed(decision)
        if old["kind"] != "dm":
            refuse(rules.dm_leak(old["text"], dm_texts_for(conn, ctx, old["text"])))

    def run(conn: Connection) -> OutboxRow:
        actor = audit.actor_name(conn, user_id)
        new_id, created = outbox_svc.retry_in(
            conn, outbox_id, created_by=user_id, check=lambda old: still_allowed(old, conn)
        )
        if created:
            audit.record(conn, user_id, actor, "reply.retry", "outbox", new_id, {"retry_of": outbox_id})
        return row_by_id(conn, new_id)

    return with_retry_on_race(engine, run)
