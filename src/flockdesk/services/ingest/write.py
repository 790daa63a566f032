"""Bulk statements of the ingest write path (SQLAlchemy Core, SQLite and PostgreSQL).

Each function runs a constant number of statements per batch: `SELECT ... WHERE IN` in chunks,
multi-row INSERT (insertmanyvalues) with ON CONFLICT, executemany UPDATE.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from flockdesk.connectors import registry
from flockdesk.domain.types import CursorUpdate, DeadLetter, InboundItem
from flockdesk.services.ingest.rules import match_sending
from flockdesk.store.bulk import bulk_insert, bulk_update
from flockdesk.store.dialect import in_json, upsert
from flockdesk.store.schema import contacts, conversations, dead_letters, messages, outbox, sync_cursors

CHUNK = 5000
Key = tuple[str, str]
Row = Mapping[Any, Any]  # a RowMapping or a plain dict


def chunks(values: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def existing_messages(conn: Connection, keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    by_platform: dict[str, list[str]] = {}
    for platform, ext in keys:
        by_platform.setdefault(platform, []).append(ext)
    found: set[tuple[str, str]] = set()
    for platform, ids in by_platform.items():
        for part in chunks(ids):
            q = sa.select(messages.c.external_id).where(
                messages.c.platform == platform, in_json(conn, messages.c.external_id, part)
            )
            found.update((platform, ext) for ext in conn.execute(q).scalars())
    return found


def own_post_ids(conn: Connection, account_id: int, platform: str, ids: Collection[str]) -> set[str]:
    """Which of these post ids are the account's own (its stored outbound posts or sent outbox rows)."""
    found: set[str] = set()
    wanted = sorted(set(ids))
    for part in chunks(wanted):
        q = sa.select(messages.c.external_id).where(
            messages.c.platform == platform,
            messages.c.direction == "out",
            in_json(conn, messages.c.external_id, part),
        )
        found.update(conn.execute(q).scalars())
        q = sa.select(outbox.c.external_id).where(
            outbox.c.account_id == account_id, in_json(conn, outbox.c.external_id, part)
        )
        found.update(str(x) for x in conn.execute(q).scalars() if x is not None)
    return found


def promote_summoned(conn: Connection, items: Sequence[InboundItem]) -> list[int]:
    """Messages already stored as listening hits (or without the mention flag) that another source
    shows to summon the account take the mention's (or quote's) kind; their conversations, if they
    were listening conversations, become mention conversations (the mention's SLA). Returns the
    conversations changed."""
    changed: set[int] = set()
    for item in items:
        m = messages.c
        rows = conn.execute(
            messages.update()
            .where(
                m.platform == item.platform,
                m.external_id == item.external_id,
                m.direction == "in",
                sa.or_(m.kind == "search", m.mentions_account.is_(None), m.mentions_account.is_(False)),
            )
            .values(kind=item.kind, mentions_account=True, quoted_post_id=item.quoted_post_id)
            .returning(m.conversation_id)
        ).scalars()
        changed.update(int(c) for c in rows)
    promote_conversations(conn, changed)
    return sorted(changed)


def promote_conversations(conn: Connection, ids: Collection[int]) -> None:
    """Listening conversations that hold a post summoning the account become mention conversations."""
    for part in chunks(sorted(ids)):
        conn.execute(
            conversations.update()
            .where(in_json(conn, conversations.c.id, part), conversations.c.channel == "search")
            .values(channel="mention")
        )


def match_outbox(
    conn: Connection, account_id: int, echoes: Sequence[InboundItem], now: datetime
) -> dict[str, Row]:
    """Echo external id -> its outbox row; matched rows are marked sent with that external id."""
    if not echoes:
        return {}
    matched: dict[str, Row] = {}
    ids = [e.external_id for e in echoes]
    for part in chunks(ids):
        q = sa.select(outbox).where(
            outbox.c.account_id == account_id, in_json(conn, outbox.c.external_id, part)
        )
        for row in conn.execute(q).mappings():
            matched[row["external_id"]] = row
    rest = [e for e in echoes if e.external_id not in matched]
    if rest:
        q = sa.select(outbox).where(
            outbox.c.account_id == account_id, outbox.c.status.in_(("sending", "awaiting_native"))
        )
        candidates = list(conn.execute(q.order_by(outbox.c.id)).mappings())
        used = {row["id"] for row in matched.values()}
        for item in rest:
            hit = match_sending(item, candidates, used, registry.profile(item.platform))
            if hit is not None:
                used.add(hit["id"])
                matched[item.external_id] = hit
    updates = [
        {"b_id": row["id"], "b_ext": ext, "b_at": row["sent_at"] or now}
        for ext, row in matched.items()
        if row["status"] != "sent" or row["external_id"] != ext
    ]
    if updates:
        stmt = (
            outbox.update()
            .where(outbox.c.id == sa.bindparam("b_id"))
            .values(
                status="sent", external_id=sa.bindparam("b_ext"), sent_at=sa.bindparam("b_at"), error=None
            )
        )
        conn.execute(stmt, updates)
    return matched


def _snapshot(item: InboundItem) -> dict[str, Any] | None:
    a = item.author
    if a is None or a.external_id != item.author_id:
        return None
    return {
        "username": a.username,
        "name": a.name,
        "bio": a.bio,
        "followers_count": a.followers_count,
        "verified": a.verified,
        "host": a.host,
        "profile": a.profile,
    }


_SNAPSHOT_COLS = ("username", "name", "bio", "followers_count", "verified", "host")


def upsert_contacts(
    conn: Connection, items: Sequence[InboundItem], now: datetime
) -> dict[tuple[str, str], int]:
    """Every author (and DM/reply counterpart of an echo) as a contact; profile snapshots refreshed.

    Unchanged contacts are not rewritten; new or changed ones go through one
    INSERT .. ON CONFLICT (platform, external_id) DO UPDATE.
    """
    snaps: dict[tuple[str, str], dict[str, Any] | None] = {}
    for item in items:
        key = (item.platform, item.author_id)
        snap = _snapshot(item)
        if snap is not None or key not in snaps:
            snaps[key] = snap
        for other in (item.recipient_id, item.in_reply_to_user_id):
            if other:
                snaps.setdefault((item.platform, other), None)
    ids: dict[tuple[str, str], int] = {}
    current: dict[tuple[str, str], Row] = {}
    platforms = {p for p, _ in snaps}
    for platform in platforms:
        ext_ids = [e for p, e in snaps if p == platform]
        for part in chunks(ext_ids):
            q = sa.select(
                contacts.c.id, contacts.c.external_id, *[contacts.c[c] for c in _SNAPSHOT_COLS]
            ).where(contacts.c.platform == platform, in_json(conn, contacts.c.external_id, part))
            for row in conn.execute(q).mappings():
                current[(platform, row["external_id"])] = row
                ids[(platform, row["external_id"])] = row["id"]
    rows = []
    for (platform, ext), snap in snaps.items():
        old = current.get((platform, ext))
        if old is not None and (snap is None or all(old[c] == snap[c] for c in _SNAPSHOT_COLS)):
            continue
        base = snap or {
            "username": "",
            "name": "",
            "bio": "",
            "followers_count": 0,
            "verified": False,
            "host": None,
            "profile": None,
        }
        rows.append(
            {"platform": platform, "external_id": ext, **base, "first_seen_at": now, "updated_at": now}
        )
    if rows:
        rows.sort(key=lambda r: (r["platform"], r["external_id"]))  # one lock order for concurrent writers
        with_snap = [r for r in rows if snaps[(r["platform"], r["external_id"])] is not None]
        bare = [r for r in rows if snaps[(r["platform"], r["external_id"])] is None]
        keys = ("platform", "external_id")
        bulk_insert(
            conn, contacts, with_snap, conflict=keys, update=(*_SNAPSHOT_COLS, "profile", "updated_at")
        )
        bulk_insert(conn, contacts, bare, conflict=keys)
        for platform in platforms:  # the ids of those just written
            lost = [e for p, e in snaps if p == platform and (p, e) not in ids]
            for part in chunks(lost):
                q = sa.select(contacts.c.id, contacts.c.external_id).where(
                    contacts.c.platform == platform, in_json(conn, contacts.c.external_id, part)
                )
                ids.update(((platform, r.external_id), r.id) for r in conn.execute(q))
    return ids


def thread_keys(conn: Connection, account_id: int, items: Sequence[InboundItem]) -> dict[str, Key]:
    """Message id -> (thread kind, thread id). A reply that came without a conversation_id joins the
    thread of the post it answers (found in this batch or in the store)."""
    keys: dict[str, Key] = {i.external_id: (i.thread_kind, i.thread_id) for i in items}
    orphans = [
        i
        for i in items
        if i.thread_kind == "public" and i.in_reply_to_external_id and i.thread_id == i.external_id
    ]
    if not orphans:
        return keys
    parents = [i.in_reply_to_external_id for i in orphans if i.in_reply_to_external_id not in keys]
    platform = orphans[0].platform
    stored: dict[str, Key] = {}
    for part in chunks([p for p in parents if p]):
        q = (
            sa.select(messages.c.external_id, conversations.c.kind, conversations.c.external_thread_id)
            .join(conversations, conversations.c.id == messages.c.conversation_id)
            .where(
                messages.c.platform == platform,
                in_json(conn, messages.c.external_id, part),
                conversations.c.account_id == account_id,
            )
        )
        stored.update((r.external_id, (r.kind, r.external_thread_id)) for r in conn.execute(q))
    for _ in range(len(orphans)):  # follow chains of orphan replies within the batch
        changed = False
        for item in orphans:
            parent = item.in_reply_to_external_id or ""
            target = keys.get(parent) or stored.get(parent)
            if target is not None and keys[item.external_id] != target and parent != item.external_id:
                keys[item.external_id] = target
                changed = True
        if not changed:
            break
    return keys


_CONV_COLS = (
    conversations.c.id,
    conversations.c.kind,
    conversations.c.external_thread_id,
    conversations.c.status,
    conversations.c.last_message_at,
    conversations.c.waiting_since,
    conversations.c.first_response_at,
    conversations.c.priority,
    conversations.c.snoozed_until,
    conversations.c.created_at,
)


# what ingest needs of the conversations it just created: their ids (their state it computed itself)
CREATED_COLS = (
    conversations.c.id,
    conversations.c.kind,
    conversations.c.external_thread_id,
    conversations.c.created_at,
)


def find_conversations(
    conn: Connection, account_id: int, keys: Collection[Key], columns: Sequence[Any] = _CONV_COLS
) -> dict[Key, Row]:
    """One lookup per thread kind, so the unique (account_id, kind, external_thread_id) index seeks."""
    by_kind: dict[str, list[str]] = {}
    for kind, tid in set(keys):
        by_kind.setdefault(kind, []).append(tid)
    found: dict[Key, Row] = {}
    for kind, tids in by_kind.items():
        for part in chunks(sorted(tids)):
            q = sa.select(*columns).where(
                conversations.c.account_id == account_id,
                conversations.c.kind == kind,
                in_json(conn, conversations.c.external_thread_id, part),
            )
            for row in conn.execute(q).mappings():
                found[(kind, row["external_thread_id"])] = row
    return found


def conversations_by_id(conn: Connection, ids: Sequence[int]) -> dict[int, Row]:
    out: dict[int, Row] = {}
    for part in chunks(list(ids)):
        for row in conn.execute(
            sa.select(*_CONV_COLS).where(in_json(conn, conversations.c.id, part))
        ).mappings():
            out[row["id"]] = row
    return out


def create_conversations(conn: Connection, specs: Sequence[Mapping[str, Any]]) -> int:
    """INSERT .. ON CONFLICT DO NOTHING; returns how many were actually created."""
    ordered = sorted(specs, key=lambda r: (r["kind"], r["external_thread_id"]))  # one lock order
    return bulk_insert(conn, conversations, ordered, conflict=("account_id", "kind", "external_thread_id"))


def update_conversations(conn: Connection, updates: Sequence[Mapping[str, Any]]) -> None:
    """Each update is {"id": ..., **ConversationState.columns(MESSAGE_COLUMNS)}."""
    bulk_update(conn, conversations, updates)


def insert_messages(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> int:
    """INSERT .. ON CONFLICT (platform, external_id) DO NOTHING; returns how many were inserted."""
    ordered = sorted(rows, key=lambda r: (r["platform"], r["external_id"]))  # one lock order
    return bulk_insert(conn, messages, ordered, conflict=("platform", "external_id"))


def max_message_id(conn: Connection) -> int | None:
    return conn.execute(sa.select(sa.func.max(messages.c.id))).scalar()


def _no_nul(text: str) -> str:
    return text.replace("\x00", "\\u0000") if "\x00" in text else text


def dead_letter_fingerprint(origin: str, reason: str, payload: str) -> str:
    """sha256 of (origin, reason, payload) as stored: the identity of a dead letter (migration 0007)."""
    return hashlib.sha256("\x00".join((origin, reason, payload)).encode()).hexdigest()


def write_dead_letters(
    conn: Connection, dead: Sequence[DeadLetter], source_id: int | None, now: datetime
) -> int:
    """Dead letters keep the payload as text; NUL (which PostgreSQL text refuses) is written as \\u0000.

    Idempotent: one already stored with the same (origin, reason, payload), as a re-imported file
    gives, is not stored again. Returns how many were new."""
    rows: dict[str, dict[str, Any]] = {}
    for d in dead:
        origin, reason, payload = _no_nul(d.origin)[:64], _no_nul(d.reason), _no_nul(d.payload)
        fp = dead_letter_fingerprint(origin, reason, payload)
        rows.setdefault(
            fp,
            {
                "source_id": source_id,
                "origin": origin,
                "reason": reason,
                "payload": payload,
                "created_at": now,
                "fingerprint": fp,
            },
        )
    if not rows:
        return 0
    stored: set[str] = set()
    for part in chunks(list(rows)):
        q = sa.select(dead_letters.c.fingerprint).where(in_json(conn, dead_letters.c.fingerprint, part))
        stored.update(conn.execute(q).scalars())
    fresh = [row for fp, row in rows.items() if fp not in stored]
    if not fresh:
        return 0
    # ON CONFLICT: a concurrent writer storing the same dead letter between the SELECT and here
    stmt = upsert(conn, dead_letters).on_conflict_do_nothing(index_elements=["fingerprint"])
    conn.execute(stmt, fresh)
    return len(fresh)


def write_cursor(conn: Connection, cursor: CursorUpdate, now: datetime) -> None:
    values = {
        "source_id": cursor.source_id,
        "since_id": cursor.since_id,
        "pending_newest_id": cursor.pending_newest_id,
        "next_token": cursor.next_token,
        "updated_at": now,
    }
    ins = upsert(conn, sync_cursors)
    stmt = ins.on_conflict_do_update(
        index_elements=["source_id"],
        set_={k: ins.excluded[k] for k in ("since_id", "pending_newest_id", "next_token", "updated_at")},
    )
    conn.execute(stmt, values)
