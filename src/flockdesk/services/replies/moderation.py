"""Hide a reply on the platform (X's hide replies) when a public reply holds personal data.

The platform (X) lets an account hide replies only in conversations it started, so the checks run in
this order:
the message must be inbound, public and a reply; when the store knows who started the thread (the
root post is stored, or the reply answers the root directly and the platform said whom it answered)
a thread started by someone else is refused here, without a call; when the root is unknown the
platform decides and its refusal is shown as it said it. No database transaction is open while the
platform is called; the result (messages.hidden) and an audit event are written after it answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from flockdesk.connectors import registry
from flockdesk.connectors.base import (
    AuthError,
    ConnectorError,
    PlatformRejected,
    RateLimited,
    ReplyModerator,
    TransientError,
)
from flockdesk.domain.errors import Conflict, InvalidInput, NotFound
from flockdesk.services.accounts.connected import connector_for_account
from flockdesk.services.team import audit
from flockdesk.settings import Settings
from flockdesk.store.schema import accounts, contacts, conversations, messages


class HideRefused(InvalidInput):
    """Hiding is not possible for this message; `reason` is a stable code, the message says why."""

    status = 422

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class HideResult:
    message_id: int
    conversation_id: int
    external_id: str
    hidden: bool


@dataclass(frozen=True, slots=True)
class HideCandidate:
    """An inbound public reply the UI may offer to hide (hidden: None = never changed; sensitive: its
    text holds personal data; thread_owner: who started its thread, as far as the store knows)."""

    message_id: int
    external_id: str
    author_username: str
    hidden: bool | None
    sensitive: bool
    thread_owner: str  # org | other | unknown: X hides only replies in threads the org started


def _reply_rows(conn: Connection, where: Any) -> list[Any]:
    m, c = messages.c, conversations.c
    return list(
        conn.execute(
            sa.select(
                m.id,
                m.conversation_id,
                m.external_id,
                m.direction,
                m.in_reply_to_external_id,
                m.in_reply_to_user_id,
                m.sensitive,
                m.move_to_dm,
                m.hidden,
                c.kind.label("conv_kind"),
                c.external_thread_id,
                c.account_id,
                c.platform,
                contacts.c.username.label("author_username"),
            )
            .select_from(
                messages.join(conversations, c.id == m.conversation_id).outerjoin(
                    contacts, contacts.c.id == m.author_contact_id
                )
            )
            .where(where)
            .order_by(m.created_at.desc(), m.id.desc())
        ).mappings()
    )


def _is_hideable(row: Any) -> bool:
    return row["direction"] == "in" and row["conv_kind"] == "public" and bool(row["in_reply_to_external_id"])


def _flagged(row: Any) -> bool:
    return bool(row["sensitive"]) or bool(row["move_to_dm"])


def hide_candidates(engine: Engine, conversation_id: int) -> list[HideCandidate]:
    """Inbound public replies of a conversation, newest first (what the banner may offer to hide)."""
    with engine.connect() as conn:
        rows = [
            r for r in _reply_rows(conn, messages.c.conversation_id == conversation_id) if _is_hideable(r)
        ]
        org_id = _org_id(conn, rows[0]) if rows else ""
        return [
            HideCandidate(
                r["id"],
                r["external_id"],
                r["author_username"] or "",
                r["hidden"],
                bool(r["sensitive"]),
                _thread_owner(conn, r, org_id),
            )
            for r in rows
        ]


def _org_id(conn: Connection, row: Any) -> str:
    return str(
        conn.execute(
            sa.select(accounts.c.external_user_id).where(accounts.c.id == row["account_id"])
        ).scalar_one()
    )


def _pick(conn: Connection, message_id: int | None, conversation_id: int | None) -> Any:
    if message_id is not None:
        rows = _reply_rows(conn, messages.c.id == message_id)
        if not rows:
            raise NotFound(f"message {message_id} does not exist; reload the conversation")
        return rows[0]
    if conversation_id is None:
        raise InvalidInput("say which reply to hide: give a message id or a conversation id")
    rows = _reply_rows(conn, messages.c.conversation_id == conversation_id)
    replies = [r for r in rows if _is_hideable(r)]
    if (
        not rows
        and conn.execute(sa.select(conversations.c.id).where(conversations.c.id == conversation_id)).first()
        is None
    ):
        raise NotFound(f"conversation {conversation_id} does not exist; go back to the inbox")
    if not replies:
        raise HideRefused(
            "not_a_reply",
            "This conversation has no public reply from a customer to hide; only replies can be hidden on "
            f"{_name(rows[0]) if rows else 'the platform'}.",
        )
    exposed = [r for r in replies if r["sensitive"]]
    flagged = [r for r in replies if _flagged(r)]
    return (exposed or flagged or replies)[0]


def _check(conn: Connection, row: Any) -> str:
    """Refuse what can never be hidden; returns the account's platform user id."""
    if row["conv_kind"] != "public":
        raise HideRefused(
            "not_public", "A Direct Message is private already; only public replies can be hidden."
        )
    if row["direction"] != "in":
        raise HideRefused(
            "own_message", "This is the team's own post; only a customer's reply can be hidden."
        )
    if not row["in_reply_to_external_id"]:
        raise HideRefused(
            "not_a_reply",
            f"This post starts its own thread, it is not a reply: {_name(row)} hides only replies. "
            "Move it to DM instead.",
        )
    org_id = _org_id(conn, row)
    if _thread_owner(conn, row, org_id) == "other":
        raise HideRefused(
            "not_conversation_owner",
            f"{_name(row)} hides replies only in conversations your account started, and someone else "
            "started this one. Move it to DM instead, and ask the customer to delete the post.",
        )
    return org_id


def _thread_owner(conn: Connection, row: Any, org_id: str) -> str:
    """'org', 'other' or 'unknown': who started the thread the reply belongs to."""
    root_id = row["external_thread_id"]
    root = conn.execute(
        sa.select(messages.c.direction, contacts.c.external_id)
        .select_from(messages.outerjoin(contacts, contacts.c.id == messages.c.author_contact_id))
        .join(conversations, conversations.c.id == messages.c.conversation_id)
        .where(
            messages.c.external_id == root_id,
            conversations.c.account_id == row["account_id"],
            conversations.c.kind == "public",
        )
    ).first()
    if root is not None:
        return "org" if root.direction == "out" or root.external_id == org_id else "other"
    answered = row["in_reply_to_user_id"]
    if row["in_reply_to_external_id"] == root_id and answered:
        return "org" if answered == org_id else "other"
    return "unknown"


def _name(row: Any) -> str:
    """The platform's name for people ("X")."""
    return registry.profile(str(row["platform"])).display_name


def _platform_refusal(exc: ConnectorError, hidden: bool, name: str) -> Exception:
    verb = "hide" if hidden else "unhide"
    if isinstance(exc, RateLimited):
        when = "in a few minutes"
        if exc.reset_at is not None:
            when = "after " + datetime.fromtimestamp(exc.reset_at, UTC).strftime("%H:%M UTC")
        return Conflict(f"{name}'s limit for hiding replies is spent; try again {when}.")
    if isinstance(exc, TransientError):
        return Conflict(f"{name} did not answer ({exc.detail}); try again: hiding twice is harmless.")
    if isinstance(exc, AuthError | PlatformRejected):
        detail = exc.detail.split(": ", 1)[-1] if isinstance(exc, AuthError) else exc.detail
        advice = " Move it to DM instead."
        if "scope" in detail.lower():
            advice = " Reconnect the account in Settings > Accounts so it may moderate replies."
        return HideRefused("platform_refused", f"{name} refused to {verb} this reply: {detail}.{advice}")
    return Conflict(f"{name} could not {verb} this reply: {exc.detail}; try again later.")


def hide_reply(
    engine: Engine,
    settings: Settings,
    *,
    user_id: int | None,
    message_id: int | None = None,
    conversation_id: int | None = None,
    hidden: bool = True,
    connector: ReplyModerator | None = None,
) -> HideResult:
    """Hide (hidden=False: unhide) an inbound public reply on the platform, record it and audit it.

    Give `message_id`, or `conversation_id` to pick the newest flagged reply of that conversation.
    Raises HideRefused (what to do instead), NotFound, or Conflict (rate limit, platform down)."""
    with engine.connect() as conn:
        row = _pick(conn, message_id, conversation_id)
        _check(conn, row)
    if connector is None:
        connector = connector_for_account(engine, settings, int(row["account_id"]), read_retries=0)
    try:
        state = connector.hide_reply(str(row["external_id"]), hidden=hidden)
    except ConnectorError as exc:
        with engine.begin() as conn:
            audit.record(
                conn,
                user_id,
                _actor(conn, user_id),
                "message.hide_refused",
                "message",
                row["id"],
                {"hidden": hidden, "reason": exc.detail[:500]},
            )
        raise _platform_refusal(exc, hidden, _name(row)) from exc
    with engine.begin() as conn:
        conn.execute(messages.update().where(messages.c.id == row["id"]).values(hidden=state))
        audit.record(
            conn,
            user_id,
            _actor(conn, user_id),
            "message.hidden" if state else "message.unhidden",
            "message",
            row["id"],
            {"conversation_id": row["conversation_id"], "external_id": row["external_id"]},
        )
    return HideResult(int(row["id"]), int(row["conversation_id"]), str(row["external_id"]), state)


def _actor(conn: Connection, user_id: int | None) -> str:
    return audit.actor_name(conn, user_id) if user_id is not None else "system"
