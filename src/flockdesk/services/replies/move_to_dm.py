"""Move to DM: a public acknowledgement with the DM deep link, and the linked DM conversation.

The acknowledgement follows the platform's policy like any public reply (services/replies/policy.py):
through the API where the post summoned the account, else as a `native_reply` a person posts on the
platform (the reply intent link, matched when it comes back). The customer starts the DM; a first DM
queued with the move goes through the API only to someone who DMed the account before.

The acknowledgement repeats nothing from the thread (default text in the brand voice, no personal
data) and links to a DM with the brand account (the platform's deep link, from its profile in the
connector registry). The DM conversation with the contact is found or created (external_thread_id
as the platform names the thread between the two users, e.g. X's "<min>-<max>") and linked both
ways to the public one; a first DM can be queued in the same transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from flockdesk.connectors import registry
from flockdesk.connectors.base import DMLinks
from flockdesk.domain import conversation_state, rules
from flockdesk.domain.conversation_state import ConversationState
from flockdesk.domain.errors import Conflict, ReplyRefused
from flockdesk.domain.utc import utcnow
from flockdesk.services.conversations import state as state_svc
from flockdesk.services.replies import policy
from flockdesk.services.replies.checks import check_public, load_context, refuse
from flockdesk.services.replies.rows import (
    DEFAULT_ACK,
    MoveToDm,
    OutboxRow,
    audit_override,
    by_key,
    clean_key,
    derived_key,
    insert,
    with_retry_on_race,
)
from flockdesk.services.team import audit
from flockdesk.store.schema import conversations, outbox


def _find_or_create_dm(
    conn: Connection, ctx: dict[str, Any], links: DMLinks, public_id: int, assignee: int | None, user_id: int
) -> int:
    c = conversations.c
    thread = links.dm_thread_id(ctx["account_user_id"], ctx["contact_external_id"])
    found = conn.execute(
        sa.select(c.id)
        .where(
            c.account_id == ctx["account_id"],
            c.kind == "dm",
            sa.or_(c.external_thread_id == thread, c.contact_id == ctx["contact_id"]),
        )
        .order_by(c.external_thread_id != thread, c.id)
    ).first()
    now = utcnow()
    moved = {"from_conversation_id": public_id}
    if found is not None:
        dm_id = int(found.id)
        conn.execute(conversations.update().where(c.id == dm_id).values(linked_conversation_id=public_id))
        state_svc.apply(
            conn,
            dm_id,
            "move_to_dm",
            conversation_state.open_for_dm,
            actor_id=user_id,
            at=now,
            detail=moved,
            record_unchanged=True,
        )
    else:
        state = ConversationState(status="open", last_message_at=now, assignee_id=assignee)
        dm_id = int(
            conn.execute(  # type: ignore[index]
                conversations.insert().values(
                    account_id=ctx["account_id"],
                    platform=ctx["platform"],
                    kind="dm",
                    channel="dm",
                    external_thread_id=thread,
                    contact_id=ctx["contact_id"],
                    linked_conversation_id=public_id,
                    created_at=now,
                    **state.columns(),
                )
            ).inserted_primary_key[0]
        )
        state_svc.record_created(conn, dm_id, state, actor_id=user_id, at=now, detail=moved)
    conn.execute(conversations.update().where(c.id == public_id).values(linked_conversation_id=dm_id))
    return dm_id


REPEAT_ACK_WINDOW = timedelta(hours=24)


def _refuse_repeat_ack(conn: Connection, conversation_id: int) -> None:
    """One public "let's take this to DM" per day per conversation: a second identical acknowledgement
    (a stale page, a direct POST, a customer's follow-up post) would spam the customer's thread, and X
    refuses duplicate content anyway. A failed acknowledgement does not count."""
    last = conn.execute(
        sa.select(outbox.c.id, outbox.c.created_at)
        .where(
            outbox.c.conversation_id == conversation_id,
            sa.or_(
                outbox.c.kind == "public_ack",
                sa.and_(outbox.c.kind == "native_reply", outbox.c.idempotency_key.endswith(":ack")),
            ),
            outbox.c.status != "failed",
        )
        .order_by(outbox.c.id.desc())
        .limit(1)
    ).first()
    if last is not None and last.created_at > datetime.now(UTC) - REPEAT_ACK_WINDOW:
        raise Conflict(
            f"this conversation was moved to DM less than 24 hours ago (acknowledgement #{last.id}); "
            "continue in the linked DM conversation"
        )


def _move(
    conn: Connection,
    conversation_id: int,
    user_id: int,
    ack_text: str | None,
    dm_text: str | None,
    key: str | None,
    override_guard: bool,
) -> MoveToDm:
    # Concurrent moves of one conversation take turns (PostgreSQL row lock; SQLite write transactions
    # are already serial): otherwise a second request could miss the first one's idempotency key and
    # then see its acknowledgement as a "repeat" and refuse instead of handing the same row back.
    conn.execute(sa.select(conversations.c.id).where(conversations.c.id == conversation_id).with_for_update())
    actor = audit.actor_name(conn, user_id)
    ctx = load_context(conn, conversation_id)
    if ctx["kind"] != "public":
        raise ReplyRefused("already_dm", "this conversation is already a DM; reply in it directly")
    if not ctx["contact_external_id"] or ctx["latest_in"] is None:
        raise ReplyRefused(
            "nothing_to_reply_to", "this conversation has no inbound post from a contact to answer"
        )
    links = registry.profile(ctx["platform"])
    ack = (
        ack_text
        if ack_text is not None
        else DEFAULT_ACK.format(link=links.dm_deep_link(ctx["account_user_id"]))
    )
    refuse(rules.channel_violation("public", "public_ack"))
    refuse(rules.length_violation(ack, "public_ack"))
    if dm_text is not None:
        refuse(rules.length_violation(dm_text, "dm"))
    base = key or derived_key("move_to_dm", conversation_id, ctx["latest_in"].id)
    existing = by_key(conn, base + ":ack")
    if existing is not None:
        if existing.text != ack:
            raise Conflict(
                f"this conversation was already moved to DM (acknowledgement #{existing.id}); "
                "continue in the linked DM conversation"
            )
        dm_conv = conn.execute(
            sa.select(conversations.c.linked_conversation_id).where(conversations.c.id == conversation_id)
        ).scalar()
        return MoveToDm(existing, int(dm_conv or 0), by_key(conn, base + ":dm"))
    _refuse_repeat_ack(conn, conversation_id)
    ack_decision = policy.ask(conn, ctx, "public_ack", ack)
    if ack_decision.verdict == "forbidden":
        policy.refuse_unless_allowed(ack_decision)
    if dm_text is not None:
        policy.refuse_unless_allowed(policy.ask(conn, ctx, "dm", dm_text))
    check = check_public(conn, ctx, ack, override_guard)
    assignee = ctx["assignee_id"] if ctx["assignee_id"] is not None else user_id
    dm_id = _find_or_create_dm(conn, ctx, links, conversation_id, assignee, user_id)
    state_svc.apply(
        conn,
        conversation_id,
        "move_to_dm",
        lambda state: state,
        actor_id=user_id,
        detail={"dm_conversation_id": dm_id},
        record_unchanged=True,
    )
    ack_row = insert(
        conn,
        key=base + ":ack",
        user_id=user_id,
        ctx=ctx,
        kind="public_ack" if ack_decision.allowed else "native_reply",
        text=ack,
        in_reply_to=ctx["latest_in"].external_id,
        conversation_id=conversation_id,
    )
    audit_override(conn, user_id, actor, ack_row, conversation_id, check)
    dm_row: OutboxRow | None = None
    if dm_text is not None:
        dm_row = insert(
            conn,
            key=base + ":dm",
            user_id=user_id,
            ctx=ctx,
            kind="dm",
            text=dm_text,
            recipient=ctx["contact_external_id"],
            conversation_id=dm_id,
        )
    audit.record(
        conn,
        user_id,
        actor,
        "conversation.move_to_dm",
        "conversation",
        conversation_id,
        {
            "dm_conversation_id": dm_id,
            "ack_outbox_id": ack_row.id,
            "dm_outbox_id": dm_row.id if dm_row else None,
        },
    )
    return MoveToDm(ack_row, dm_id, dm_row)


def move_to_dm(
    engine: Engine,
    conversation_id: int,
    user_id: int,
    ack_text: str | None = None,
    dm_text: str | None = None,
    *,
    idempotency_key: str | None = None,
    override_guard: bool = False,
) -> MoveToDm:
    """Acknowledge publicly with the DM link and open (or reuse) the linked DM conversation."""
    key = clean_key(idempotency_key)

    return with_retry_on_race(
        engine, lambda conn: _move(conn, conversation_id, user_id, ack_text, dm_text, key, override_guard)
    )
