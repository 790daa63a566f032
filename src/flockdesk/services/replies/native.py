"""Replies a person posts on the platform itself ("Reply on X"), for posts the platform's rules keep
from the API (a post that did not summon the account).

1. `draft_native_reply`: the drafted text passes the same checks as any public reply (length, the
   DM-text rule, the reply guard) and is kept as an outbox row of kind `native_reply`, status
   `awaiting_native`, which the sender never sends. The page shows the platform's reply intent link
   (the composer opens with the text, as a reply to the post).
2. `confirm_native`: the agent says "I sent it" (recorded as the row's `claimed_at`, and audited).
3. `match_pending` (a worker job): the account's own recent posts are read (an owned read) and the
   confirmed rows are matched: the account's post answering the same post, made after the draft, with
   the same text (compared as services/replies/reconcile.py does) or, when the person edited the text
   on the platform, the only such answer. A match is stored as the sent message of the conversation
   and the row becomes `sent`. The ingest path matches the same rows when the post comes back through
   any source (services/ingest/rules.py `match_sending`).

Rows confirmed longer ago than MATCH_WINDOW are no longer looked for; they stay as they are.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from flockdesk.connectors import registry
from flockdesk.connectors.base import ConnectorError, OwnPostsReader
from flockdesk.domain import rules
from flockdesk.domain.errors import Conflict, NotFound, ReplyRefused
from flockdesk.domain.policy import Decision
from flockdesk.domain.types import InboundItem, SendResult
from flockdesk.domain.utc import as_utc, utcnow
from flockdesk.services.replies import policy
from flockdesk.services.replies.checks import check_public, load_context, refuse
from flockdesk.services.replies.outbox import mark_sent
from flockdesk.services.replies.reconcile import CLOCK_SKEW, comparable
from flockdesk.services.replies.rows import (
    OutboxRow,
    audit_override,
    by_key,
    clean_key,
    derived_key,
    insert,
    row_by_id,
    with_retry_on_race,
)
from flockdesk.services.team import audit
from flockdesk.store.schema import accounts, outbox

log = logging.getLogger(__name__)

MATCH_WINDOW = timedelta(days=2)
MAX_PAGES = 3


@dataclass(frozen=True, slots=True)
class NativeDraft:
    row: OutboxRow
    link: str  # opens the platform's composer as a reply to the post, with the text


def intent_link(engine: Engine, row: OutboxRow) -> str | None:
    """The reply intent link of a native reply row (None for other rows)."""
    if row.kind != "native_reply" or not row.in_reply_to_external_id:
        return None
    with engine.connect() as conn:
        platform = conn.execute(
            sa.select(accounts.c.platform).where(accounts.c.id == row.account_id)
        ).scalar_one()
    return registry.profile(platform).reply_intent_link(row.in_reply_to_external_id, row.text)


def _draft(
    conn: Connection, conversation_id: int, user_id: int, text: str, override_guard: bool, key: str | None
) -> tuple[OutboxRow, str]:
    actor = audit.actor_name(conn, user_id)
    ctx = load_context(conn, conversation_id)
    if ctx["kind"] != "public":
        raise ReplyRefused("wrong_channel", "Reply on X is for public posts; answer a DM in the DM thread")
    latest = ctx["latest_in"]
    if latest is None:
        raise ReplyRefused("nothing_to_reply_to", "this conversation has no inbound post to reply to")
    refuse(rules.length_violation(text, "native_reply"))
    key = key or derived_key("native", conversation_id, user_id, latest.id, text)
    existing = by_key(conn, key)
    if existing is not None:
        if existing.conversation_id != conversation_id or existing.text != text:
            raise Conflict("this idempotency key was already used for a different message; use a new key")
        return existing, registry.profile(ctx["platform"]).reply_intent_link(latest.external_id, text)
    decision = policy.ask(conn, ctx, "reply", text)
    if decision.verdict != "needs_person":
        if decision.allowed:
            raise ReplyRefused(
                "allowed_via_api",
                "this post mentioned the account: send the reply from Flockdesk instead",
            )
        policy.refuse_unless_allowed(decision)
    check = check_public(conn, ctx, text, override_guard)
    row = insert(
        conn,
        key=key,
        user_id=user_id,
        ctx=ctx,
        kind="native_reply",
        text=text,
        in_reply_to=latest.external_id,
        conversation_id=conversation_id,
    )
    audit_override(conn, user_id, actor, row, conversation_id, check)
    audit.record(
        conn, user_id, actor, "reply.native_draft", "outbox", row.id, {"conversation_id": conversation_id}
    )
    return row, registry.profile(ctx["platform"]).reply_intent_link(latest.external_id, text)


def draft_native_reply(
    engine: Engine,
    conversation_id: int,
    user_id: int,
    text: str,
    *,
    override_guard: bool = False,
    idempotency_key: str | None = None,
) -> NativeDraft:
    """Keep the reply a person will post on the platform, and the link that opens its composer."""
    key = clean_key(idempotency_key)
    row, link = with_retry_on_race(
        engine, lambda conn: _draft(conn, conversation_id, user_id, text, override_guard, key)
    )
    return NativeDraft(row, link)


def confirm_native(engine: Engine, outbox_id: int, user_id: int) -> OutboxRow:
    """The agent posted the native reply on the platform: look for it among the account's posts."""
    with engine.begin() as conn:
        row = row_by_id(conn, outbox_id)
        if row.kind != "native_reply":
            raise NotFound(f"outbox row {outbox_id} is not a reply posted on the platform")
        if row.status != "awaiting_native":
            return row  # already matched
        conn.execute(
            outbox.update()
            .where(outbox.c.id == outbox_id, outbox.c.status == "awaiting_native")
            .values(claimed_at=utcnow(), error=None)
        )
        audit.record(
            conn,
            user_id,
            audit.actor_name(conn, user_id),
            "reply.native_sent",
            "outbox",
            outbox_id,
            {"conversation_id": row.conversation_id},
        )
        return row_by_id(conn, outbox_id)


def composer_decision(engine: Engine, conversation_id: int, text: str = "") -> Decision | None:
    """What the platform's policy says about answering this conversation now (None: nothing to
    answer yet): the composer shows the reason and, for a person, the native button."""
    with engine.connect() as conn:
        ctx = load_context(conn, conversation_id)
        if ctx["kind"] == "dm":
            if not ctx["contact_external_id"]:
                return None
            return policy.ask(conn, ctx, "dm", text)
        if ctx["latest_in"] is None:
            return None
        return policy.ask(conn, ctx, "reply", text)


# ---- matching the person's post when it comes back -------------------------------------------------


def _pending(engine: Engine, now: datetime) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(outbox).where(
                outbox.c.kind == "native_reply",
                outbox.c.status == "awaiting_native",
                outbox.c.claimed_at.is_not(None),
            )
        ).mappings()
        return [dict(r) for r in rows if as_utc(r["claimed_at"]) > now - MATCH_WINDOW]


def _own_posts(connector: OwnPostsReader, me: str, since: datetime) -> list[InboundItem]:
    items: list[InboundItem] = []
    token: str | None = None
    for _ in range(MAX_PAGES):
        page = connector.fetch_own_posts(me, since=since, pagination_token=token).page
        items.extend(page.items)
        token = page.next_token
        if not token or (page.items and min(as_utc(i.created_at) for i in page.items) < since):
            break
    return items


def _taken(engine: Engine, ids: list[str]) -> set[str]:
    if not ids:
        return set()
    with engine.connect() as conn:
        return {
            str(x)
            for x in conn.execute(
                sa.select(outbox.c.external_id).where(outbox.c.external_id.in_(ids))
            ).scalars()
        }


def pick(
    row: Mapping[str, Any], posts: list[InboundItem], me: str, taken: set[str], platform: str
) -> InboundItem | None:
    """The account's post that is this native reply: same target, after the draft, same text; else
    the only answer to that post (the person edited the text on the platform)."""
    since = as_utc(row["created_at"]) - CLOCK_SKEW
    handles = registry.profile(platform)
    candidates = [
        p
        for p in posts
        if p.author_id == me
        and p.external_id not in taken
        and p.in_reply_to_external_id == row["in_reply_to_external_id"]
        and as_utc(p.created_at) >= since
    ]
    want = comparable(row["text"], handles)
    same = [p for p in candidates if comparable(p.text, handles) == want]
    if same:
        return min(same, key=lambda p: as_utc(p.created_at))
    return candidates[0] if len(candidates) == 1 else None


def match_pending(
    engine: Engine, connector_for: Callable[[int], object], *, now: datetime | None = None
) -> int:
    """Match the confirmed native replies against the account's own posts; returns how many matched."""
    now = now or utcnow()
    rows = _pending(engine, now)
    by_account: dict[int, list[dict[str, Any]]] = {}
    for r in rows:
        by_account.setdefault(int(r["account_id"]), []).append(r)
    matched = 0
    for account_id, group in by_account.items():
        with engine.connect() as conn:
            acct = conn.execute(
                sa.select(accounts.c.external_user_id, accounts.c.platform).where(accounts.c.id == account_id)
            ).one()
        connector = connector_for(account_id)
        if not isinstance(connector, OwnPostsReader):
            continue
        since = min(as_utc(r["created_at"]) for r in group) - CLOCK_SKEW
        try:
            posts = _own_posts(connector, str(acct.external_user_id), since)
        except ConnectorError as exc:
            log.info("account %s: cannot read its own posts now (%s)", account_id, exc.detail)
            continue
        taken = _taken(engine, [p.external_id for p in posts])
        for r in sorted(group, key=lambda r: r["id"]):
            post = pick(r, posts, str(acct.external_user_id), taken, str(acct.platform))
            if post is None:
                continue
            taken.add(post.external_id)
            mark_sent(engine, {**r, "text": post.text}, SendResult(external_id=post.external_id))
            matched += 1
    return matched
