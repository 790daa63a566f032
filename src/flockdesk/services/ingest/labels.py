"""Triage labels for stored inbound messages that have none yet: an archive loaded with
`flockdesk import --no-triage`, or messages stored while triage was failing (`flockdesk label-stored`).

The messages are rebuilt as InboundItems from the store (text, channel, author's contact profile,
the parsed engagement, media and links) and go through the same hook as ingest (`default_triage`). Each batch is one
transaction: it writes the labels and raises the priority of conversations still waiting on those
messages (a conversation's priority is the max of its unanswered inbound messages, domain/conversation_state.py).
A message is "unlabelled" while its intent is NULL; messages are visited once each, in id order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from flockdesk.domain import conversation_state
from flockdesk.domain.conversation_state import COLUMNS, ConversationState
from flockdesk.domain.types import Author, Engagement, InboundItem, Link, Media
from flockdesk.domain.utc import utcnow
from flockdesk.services.accounts.org_contacts import OrgContacts
from flockdesk.services.conversations import state as state_svc
from flockdesk.services.ingest.ingestor import Triage, default_triage
from flockdesk.services.ingest.rules import labels_to_columns
from flockdesk.store.schema import accounts, contacts, conversations, messages


def _unlabelled(conn: Connection, after: int, limit: int) -> list[Any]:
    q = (
        sa.select(
            messages.c.id,
            messages.c.conversation_id,
            messages.c.platform,
            messages.c.external_id,
            messages.c.kind,
            messages.c.text,
            messages.c.created_at,
            messages.c.entities,
            messages.c.in_reply_to_external_id,
            messages.c.in_reply_to_user_id,
            messages.c.engagement,
            messages.c.media,
            messages.c.links,
            conversations.c.kind.label("thread_kind"),
            conversations.c.account_id,
            conversations.c.channel,
            conversations.c.external_thread_id,
            contacts.c.external_id.label("author_id"),
            contacts.c.username,
            contacts.c.name,
            contacts.c.bio,
            contacts.c.followers_count,
            contacts.c.verified,
        )
        .select_from(
            messages.join(conversations, conversations.c.id == messages.c.conversation_id).outerjoin(
                contacts, contacts.c.id == messages.c.author_contact_id
            )
        )
        .where(messages.c.direction == "in", messages.c.intent.is_(None), messages.c.id > after)
        .order_by(messages.c.id)
        .limit(limit)
    )
    return list(conn.execute(q))


def _item(row: Any) -> InboundItem:
    author = None
    if row.author_id is not None:
        author = Author(
            platform=row.platform,
            external_id=row.author_id,
            username=row.username or "",
            name=row.name or "",
            bio=row.bio or "",
            followers_count=int(row.followers_count or 0),
            verified=bool(row.verified),
        )
    return InboundItem(
        platform=row.platform,
        external_id=row.external_id,
        kind=row.kind,
        thread_kind=row.thread_kind,
        thread_id=row.external_thread_id,
        channel=row.channel,
        author_id=row.author_id or "",
        text=row.text,
        created_at=row.created_at,
        author=author,
        entities=row.entities,
        in_reply_to_external_id=row.in_reply_to_external_id,
        in_reply_to_user_id=row.in_reply_to_user_id,
        engagement=Engagement.from_json(row.engagement),
        media=Media.list_from_json(row.media),
        links=Link.list_from_json(row.links),
    )


def _raise_priorities(conn: Connection, rows: Sequence[Any], columns: Sequence[Mapping[str, Any]]) -> None:
    """A waiting conversation's priority becomes at least that of its newly labelled unanswered
    messages; each raise is a `relabel` row in the conversation's history."""
    best: dict[int, list[tuple[Any, float]]] = {}
    for row, cols in zip(rows, columns, strict=True):
        if cols["priority"] is not None:
            best.setdefault(int(row.conversation_id), []).append((row.created_at, float(cols["priority"])))
    if not best:
        return
    q = sa.select(conversations.c.id, *(conversations.c[name] for name in COLUMNS)).where(
        conversations.c.id.in_(list(best)), conversations.c.waiting_since.is_not(None)
    )
    updates, history = [], []
    now = utcnow()
    for conv in conn.execute(q).mappings():
        prev = ConversationState.from_row(conv)
        since = prev.waiting_since
        waiting = [p for at, p in best[int(conv["id"])] if since is not None and at >= since]
        nxt = conversation_state.raise_priority(prev, max(waiting)) if waiting else prev
        if nxt != prev:
            updates.append({"cid": int(conv["id"]), "prio": nxt.priority})
            history.append(state_svc.event_row(int(conv["id"]), "relabel", prev, nxt, at=now))
    if updates:
        stmt = (
            conversations.update()
            .where(conversations.c.id == sa.bindparam("cid"))
            .values(priority=sa.bindparam("prio"))
        )
        conn.execute(stmt, updates)
        state_svc.record_many(conn, history)


def _labels(conn: Connection, hook: Triage, rows: Sequence[Any]) -> list[Mapping[str, Any]]:
    """The hook's labels for `rows`, in order, with each account's own contact details passed along."""
    contacts_of = {
        int(r.id): OrgContacts.from_json(r.org_contacts).flat()
        for r in conn.execute(
            sa.select(accounts.c.id, accounts.c.org_contacts).where(
                accounts.c.id.in_({int(r.account_id) for r in rows})
            )
        )
    }
    out: list[Mapping[str, Any]] = [{}] * len(rows)
    groups: dict[int, list[int]] = {}
    for i, r in enumerate(rows):
        groups.setdefault(int(r.account_id), []).append(i)
    for account_id, idx in groups.items():
        items = [_item(rows[i]) for i in idx]
        found = contacts_of.get(account_id, [])
        labels = hook(items, org_contacts=found) if found else hook(items)
        for i, lab in zip(idx, labels, strict=False):
            out[i] = lab
    return out


def fill_missing_labels(
    engine: Engine,
    *,
    triage: Triage | None = None,
    batch_size: int = 2000,
    on_batch: Callable[[int], None] = lambda n: None,
) -> int:
    """Label every stored inbound message that has no labels; returns how many were labelled."""
    hook = triage or default_triage()
    if hook is None:
        raise RuntimeError("the triage package is not installed: labels cannot be computed")
    done, after = 0, 0
    while True:
        with engine.begin() as conn:
            rows = _unlabelled(conn, after, batch_size)
            if not rows:
                return done
            after = int(rows[-1].id)
            labels = _labels(conn, hook, rows)
            columns = [labels_to_columns(lab) for lab in labels]
            updates = [{"mid": int(r.id), **cols} for r, cols in zip(rows, columns, strict=True)]
            updates = [u for u in updates if u["intent"] is not None]
            if updates:
                stmt = messages.update().where(messages.c.id == sa.bindparam("mid"))
                conn.execute(stmt, updates)
                _raise_priorities(conn, rows, columns)
        done += len(updates)
        on_batch(len(rows))
