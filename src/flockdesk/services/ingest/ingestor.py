"""The ingest write path: one transaction per page (or batch) stores messages exactly once, threads
them, matches the organisation's echoes to the outbox, and advances the cursor with them.

Designed for batches of 1,000-10,000 items: every lookup is one `SELECT ... WHERE IN` per batch and
every write one multi-row INSERT/UPDATE, on SQLite and PostgreSQL alike (SQLAlchemy Core).

Echo rule (invariant 3): a post or DM whose author is the account itself is stored as an outbound
message (kind `post` or `dm`) in the conversation of its outbox row, else of its thread. It never
opens a conversation in the open inbox: when no conversation exists at all (a post made outside
Flockdesk), it is stored in a new conversation created with status `resolved`, so the history is
kept and a later customer reply in that thread reopens it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from flockdesk.domain.conversation_state import MESSAGE_COLUMNS, Arrivals, ConversationState, receive
from flockdesk.domain.errors import NotFound
from flockdesk.domain.types import CursorUpdate, DeadLetter, InboundItem
from flockdesk.domain.utc import as_utc, utcnow
from flockdesk.domain.vocabulary import ConversationEventKind
from flockdesk.services.accounts.org_contacts import OrgContacts
from flockdesk.services.conversations import state as state_svc
from flockdesk.services.ingest import opt_outs
from flockdesk.services.ingest import write as w
from flockdesk.services.ingest.rules import Summons, by_content, labels_to_columns, summons
from flockdesk.store import dialect
from flockdesk.store.schema import accounts, messages

log = logging.getLogger(__name__)

Triage = Callable[..., Sequence[Mapping[str, Any]]]
"""(items, *, org_contacts=()) -> one label dict per item; `org_contacts` is passed only when the
account has some (services/accounts/org_contacts.py)."""
Key = tuple[str, str]  # (thread kind, external thread id)
ANALYZE_MIN_ROWS = 2000
ANALYZED_COLUMNS = {
    "messages": ("platform", "external_id", "conversation_id"),
    "conversations": ("account_id", "kind", "external_thread_id"),
    "contacts": ("platform", "external_id"),
}
BULK_CACHE_KIB = 65536
BULK_MMAP_BYTES = 256 * 1024 * 1024


@dataclass
class IngestResult:
    account_id: int
    inserted: int = 0
    duplicates: int = 0
    conversations_created: int = 0
    echoes_matched: int = 0
    dead_letters: int = 0
    conversation_ids: list[int] = field(default_factory=list)  # conversations that got messages
    max_message_id: int | None = None

    def add(self, other: IngestResult) -> None:
        self.inserted += other.inserted
        self.duplicates += other.duplicates
        self.conversations_created += other.conversations_created
        self.echoes_matched += other.echoes_matched
        self.dead_letters += other.dead_letters
        self.conversation_ids.extend(other.conversation_ids)
        if other.max_message_id is not None:
            self.max_message_id = max(self.max_message_id or 0, other.max_message_id)


class UnknownAccount(NotFound):
    pass


_listeners: list[Callable[[IngestResult], None]] = []


def on_ingested(callback: Callable[[IngestResult], None]) -> Callable[[], None]:
    """Call `callback(result)` after every committed ingest in this process; returns an unsubscribe."""
    _listeners.append(callback)

    def unsubscribe() -> None:
        if callback in _listeners:
            _listeners.remove(callback)

    return unsubscribe


def latest_message_id(engine: Engine) -> int:
    """max(messages.id): a cheap value other processes can poll for "something new arrived"."""
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.max(messages.c.id))).scalar() or 0)


def default_triage() -> Triage:
    """The triage every inbound message gets as it is stored, shared by the worker and `flockdesk import`.

    Imported here, on first use, not at the top: the triage package and its data (phone numbers,
    languages, sentiment lexicon) are a large share of start-up, which `flockdesk import --no-triage`
    never needs."""
    from flockdesk.triage.core import triage_items

    return triage_items


def _notify(result: IngestResult) -> None:
    for callback in list(_listeners):
        try:
            callback(result)
        except Exception:  # a listener's bug must not undo or block ingest
            log.exception("on_ingested listener failed")


class Ingestor:
    def __init__(
        self, engine: Engine, *, triage: Triage | None = None, batch_size: int = 5000, bulk: bool = False
    ) -> None:
        """bulk=True (imports): on SQLite, give the writing connection a 64 MiB page cache and a
        256 MiB memory map, so index lookups in a large store stay in memory."""
        self.engine = engine
        self.triage = triage
        self.batch_size = batch_size
        self.bulk = bulk
        self._grown = 0  # rows written since the planner statistics were last refreshed
        self._analyzed_rows = 0.0
        self._accounts: dict[int, Mapping[Any, Any]] = {}

    # ---- public API -------------------------------------------------------------------------

    def ingest_page(
        self,
        account_id: int,
        items: Sequence[InboundItem],
        *,
        cursor: CursorUpdate | None = None,
        dead: Sequence[DeadLetter] = (),
        source_id: int | None = None,
        also: Callable[[Connection], None] | None = None,
    ) -> IngestResult:
        """Store one page in ONE transaction: messages, contacts, conversations, dead letters, cursor
        (and `also`, e.g. a per-conversation cursor, in the same transaction)."""
        with self.engine.begin() as conn:
            if self.bulk:
                dialect.widen_sqlite_cache(conn, cache_kib=BULK_CACHE_KIB, mmap_bytes=BULK_MMAP_BYTES)
            result = self._write(conn, account_id, items, dead, source_id)
            if cursor is not None:
                w.write_cursor(conn, cursor, utcnow())
            if also is not None:
                also(conn)
        self._keep_statistics(result)
        _notify(result)
        return result

    def ingest_many(
        self,
        account_id: int,
        items: Iterable[InboundItem],
        *,
        dead: Sequence[DeadLetter] = (),
        source_id: int | None = None,
    ) -> IngestResult:
        """Store any number of items, one transaction per `batch_size` items."""
        total = IngestResult(account_id)
        batch: list[InboundItem] = []
        for item in items:
            batch.append(item)
            if len(batch) >= self.batch_size:
                total.add(self.ingest_page(account_id, batch, source_id=source_id))
                batch = []
        if batch or dead:
            total.add(self.ingest_page(account_id, batch, dead=dead, source_id=source_id))
        return total

    def _keep_statistics(self, result: IngestResult) -> None:
        """PostgreSQL plans the batch lookups from table statistics; a store that doubled since they
        were taken (a bulk import into a fresh store, before autovacuum runs) can get a scan per
        looked-up value. So ANALYZE the looked-up columns after such growth, outside the write
        transaction (a few times per import: at 2,000, 4,000, 8,000... messages)."""
        if not dialect.is_postgresql(self.engine):
            return
        self._grown += result.inserted
        if self._grown < max(ANALYZE_MIN_ROWS, self._analyzed_rows):
            return
        try:
            self._analyzed_rows = dialect.analyze(self.engine, ANALYZED_COLUMNS) or 0.0
            self._grown = 0
        except Exception:  # statistics are an optimisation; ingest goes on without them
            log.exception("ANALYZE after ingest failed")

    # ---- the transaction --------------------------------------------------------------------

    def _account(self, conn: Connection, account_id: int) -> Mapping[Any, Any]:
        if account_id not in self._accounts:
            row = conn.execute(sa.select(accounts).where(accounts.c.id == account_id)).mappings().first()
            if row is None:
                raise UnknownAccount(f"no account with id {account_id}")
            self._accounts[account_id] = dict(row)
        return self._accounts[account_id]

    def _write(
        self,
        conn: Connection,
        account_id: int,
        items: Sequence[InboundItem],
        dead: Sequence[DeadLetter],
        source_id: int | None,
    ) -> IngestResult:
        account = self._account(conn, account_id)
        result = IngestResult(account_id)
        now = utcnow()
        if dead:
            result.dead_letters = w.write_dead_letters(conn, dead, source_id, now)
        unique: dict[tuple[str, str], InboundItem] = {}
        for item in items:
            unique.setdefault((item.platform, item.external_id), item)
        org = account["external_user_id"]
        summoned = self._by_content(conn, account, unique)
        existing = w.existing_messages(conn, unique.keys())
        promoted = [
            i
            for k, i in unique.items()
            if k in existing and i.external_id in summoned and summoned[i.external_id].summoned
        ]
        if promoted:
            result.conversation_ids = w.promote_summoned(conn, promoted)
        fresh = [i for k, i in unique.items() if k not in existing]
        result.duplicates = len(items) - len(fresh)
        if not fresh:
            return result
        echoes = [i for i in fresh if i.author_id == org]
        inbound = [i for i in fresh if i.author_id != org]
        labels = self._triage(inbound, self._org_contacts(conn, account_id) if inbound else [])
        outbox_rows = w.match_outbox(conn, account_id, echoes, now)
        result.echoes_matched = len(outbox_rows)
        contact_ids = w.upsert_contacts(conn, fresh, now)
        conv_of = self._conversations(
            conn, account, inbound, echoes, outbox_rows, contact_ids, labels, now, result
        )
        rows = []
        for item in fresh:
            is_echo = item.author_id == org
            ob = outbox_rows.get(item.external_id) if is_echo else None
            rows.append(
                {
                    "conversation_id": conv_of[item.external_id],
                    "platform": item.platform,
                    "external_id": item.external_id,
                    "kind": ("dm" if item.thread_kind == "dm" else "post") if is_echo else item.kind,
                    "direction": "out" if is_echo else "in",
                    "author_contact_id": contact_ids.get((item.platform, item.author_id)),
                    "text": item.text,
                    "entities": item.entities,
                    "in_reply_to_external_id": item.in_reply_to_external_id,
                    "in_reply_to_user_id": item.in_reply_to_user_id,
                    "engagement": item.engagement.to_json() if item.engagement else None,
                    "media": [m.to_json() for m in item.media] or None,
                    "links": [link.to_json() for link in item.links] or None,
                    "mentions_account": summoned[item.external_id].mentions
                    if item.external_id in summoned
                    else None,
                    "quoted_post_id": item.quoted_post_id,
                    "created_at": as_utc(item.created_at),
                    "ingested_at": now,
                    "outbox_id": ob["id"] if ob else None,
                    "raw": item.raw,
                    "transport": item.transport or ("legacy" if item.thread_kind == "dm" else None),
                    "quick_reply": item.quick_reply,
                    **labels_to_columns(labels.get(item.external_id)),
                }
            )
        result.inserted = w.insert_messages(conn, rows)
        opt_outs.record(conn, account_id, org, inbound, conv_of, now)
        result.duplicates += len(rows) - result.inserted
        result.max_message_id = w.max_message_id(conn) if result.inserted else None
        return result

    def _by_content(
        self, conn: Connection, account: Mapping[str, Any], unique: dict[tuple[str, str], InboundItem]
    ) -> dict[str, Summons]:
        """Give each customer post the kind its content says (services/ingest/rules.py), in place;
        returns how each public post involves the account, by external id."""
        org = account["external_user_id"]
        public = [i for i in unique.values() if i.thread_kind != "dm" and i.author_id != org]
        quoted = [i.quoted_post_id for i in public if i.quoted_post_id and i.quoted_author_id != org]
        own = w.own_post_ids(conn, account["id"], account["platform"], quoted) if quoted else set()
        found: dict[str, Summons] = {}
        for item in public:
            found[item.external_id] = summons(item, org, account.get("username") or "", own)
            unique[(item.platform, item.external_id)] = by_content(item, found[item.external_id])
        return found

    @staticmethod
    def _org_contacts(conn: Connection, account_id: int) -> list[str]:
        """The account's own contact details, read per page (not cached with the account) so an
        admin's change applies from the next page on."""
        value = conn.execute(sa.select(accounts.c.org_contacts).where(accounts.c.id == account_id)).scalar()
        return OrgContacts.from_json(value).flat()

    def _triage(
        self, inbound: Sequence[InboundItem], org_contacts: Sequence[str] = ()
    ) -> dict[str, Mapping[str, Any]]:
        if self.triage is None or not inbound:
            return {}
        try:
            # a hook that takes no contacts (tests, plugins) is still called the old way when there are none
            labels = self.triage(inbound, org_contacts=org_contacts) if org_contacts else self.triage(inbound)
        except Exception:  # stored untriaged rather than lost
            log.exception("triage failed on a batch of %d; storing without labels", len(inbound))
            return {}
        return {item.external_id: lab for item, lab in zip(inbound, labels, strict=False)}

    def _conversations(
        self,
        conn: Connection,
        account: Mapping[str, Any],
        inbound: Sequence[InboundItem],
        echoes: Sequence[InboundItem],
        outbox_rows: Mapping[str, Mapping[Any, Any]],
        contact_ids: Mapping[tuple[str, str], int],
        labels: Mapping[str, Mapping[Any, Any]],
        now: datetime,
        result: IngestResult,
    ) -> dict[str, int]:
        """Find or create every conversation the batch needs and advance their state
        (domain/conversation_state.py `receive`), with one history row per conversation changed.

        Returns external message id -> conversation id.
        """
        account_id = account["id"]
        org = account["external_user_id"]
        keys = w.thread_keys(conn, account_id, [*inbound, *echoes])
        by_key: dict[Key, list[InboundItem]] = {}
        conv_of: dict[str, int] = {}
        direct: dict[int, list[InboundItem]] = {}
        for item in inbound:
            by_key.setdefault(keys[item.external_id], []).append(item)
        for item in echoes:
            ob = outbox_rows.get(item.external_id)
            if ob is not None and ob["conversation_id"] is not None:
                direct.setdefault(ob["conversation_id"], []).append(item)
            else:
                by_key.setdefault(keys[item.external_id], []).append(item)

        def arrivals_of(group: Sequence[InboundItem], into: Arrivals | None = None) -> Arrivals:
            arr = into or Arrivals()
            for item in group:
                if item.author_id == org:
                    arr.outbound.append(as_utc(item.created_at))
                else:
                    prio = labels_to_columns(labels.get(item.external_id))["priority"]
                    arr.inbound.append((as_utc(item.created_at), prio))
            return arr

        found = w.find_conversations(conn, account_id, by_key.keys())
        states = {row["id"]: row for row in found.values()}  # rows that hold the state columns
        missing = [k for k in by_key if k not in found]
        history: list[dict[str, Any]] = []
        if missing:  # created with their final state: no UPDATE needed afterwards
            specs = []
            new_states: dict[Key, tuple[ConversationState, datetime | None]] = {}
            for key in missing:
                group = by_key[key]
                customers = [i for i in group if i.author_id != org]
                first = customers[0] if customers else group[0]
                summoning = any(i.channel == "mention" for i in customers)
                other = first.author_id if customers else (first.recipient_id or first.in_reply_to_user_id)
                start = ConversationState(status="open" if customers else "resolved")
                arrived = arrivals_of(group)
                state = receive(start, arrived)
                new_states[key] = (state, arrived.first_inbound())
                specs.append(
                    {
                        "account_id": account_id,
                        "platform": first.platform,
                        "kind": key[0],
                        "channel": "mention" if summoning and first.channel == "search" else first.channel,
                        "external_thread_id": key[1],
                        "contact_id": contact_ids.get((first.platform, other)) if other else None,
                        "created_at": now,
                        **state.columns(MESSAGE_COLUMNS),
                    }
                )
            result.conversations_created = w.create_conversations(conn, specs)
            created = w.find_conversations(conn, account_id, missing, w.CREATED_COLS)
            found.update(created)
        else:
            created = {}
        arrivals: dict[int, Arrivals] = {}
        fresh_ids = set()
        for key, row in created.items():
            if row["created_at"] == now:  # made by this transaction, not a concurrent one
                fresh_ids.add(row["id"])
                state, first_inbound = new_states[key]
                detail = {"first_inbound_at": first_inbound} if first_inbound is not None else None
                history.append(state_svc.event_row(row["id"], "created", None, state, at=now, detail=detail))
        for key, group in by_key.items():
            cid = found[key]["id"]
            for item in group:
                conv_of[item.external_id] = cid
            if cid not in fresh_ids:
                arrivals_of(group, arrivals.setdefault(cid, Arrivals()))
        for cid, group in direct.items():
            for item in group:
                conv_of[item.external_id] = cid
            arrivals_of(group, arrivals.setdefault(cid, Arrivals()))
        w.promote_conversations(
            conn,
            [
                found[key]["id"]
                for key, group in by_key.items()
                if found[key]["id"] not in fresh_ids
                and any(
                    i.author_id != org and i.thread_kind != "dm" and i.channel == "mention" for i in group
                )
            ],
        )
        # a conversation a concurrent transaction created has arrivals but no state read yet
        states.update(w.conversations_by_id(conn, [cid for cid in arrivals if cid not in states]))
        updates = []
        for cid, arr in arrivals.items():
            prev = ConversationState.from_row(states[cid])
            nxt = receive(prev, arr)
            if nxt != prev:
                updates.append({"id": cid, **nxt.columns(MESSAGE_COLUMNS)})
                kind: ConversationEventKind = "inbound" if arr.inbound else "outbound"
                history.append(state_svc.event_row(cid, kind, prev, nxt, at=now))
        w.update_conversations(conn, updates)
        state_svc.record_many(conn, history)
        result.conversation_ids = sorted({*result.conversation_ids, *arrivals, *fresh_ids})
        return conv_of
