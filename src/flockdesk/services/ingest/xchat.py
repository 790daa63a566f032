"""Encrypted chat (X Chat) into the inbox: the poll of a source of kind `xchat`, and the sink the
real-time stream hands chat events to. Both store through the Ingestor, so a message that arrives
both ways is stored once (by its event id), decrypted, in the customer's one DM conversation (the
thread id is the customer's, whatever the transport; each message records `transport`).

The poll lists the account's conversations (most recently active first) and reads each changed one's
events newer than its own cursor (`chat_cursors`, written in the same transaction as the events).
The source's `sync_cursors.since_id` holds the newest `updated_at` of the last completed poll, where
the next listing stops. An event that cannot be decrypted or verified is a dead letter with the
reason; its cursor moves past it (the dead letter keeps the encrypted event).

A poll reads one request per changed conversation, so with many conversations one bad answer must not
end it, or a poll under a few percent of faulty answers never completes and older conversations are
never reached: as the timeline sweeps do (jobs/sweep.py), a malformed answer becomes a dead letter and
the same request is made again (at most MALFORMED_RETRIES times), and a 429 whose reset is at most
`inline_wait_max_s` away is waited out in place; a later reset defers the poll.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from flockdesk.connectors.base import (
    AuthError,
    ChatKeysMissing,
    ChatReader,
    ConnectorError,
    MalformedResponse,
    RateLimited,
)
from flockdesk.domain.realtime import ChatEnvelope
from flockdesk.domain.types import CursorUpdate, DeadLetter
from flockdesk.domain.utc import utcnow
from flockdesk.services.ingest.cursors import load_cursor
from flockdesk.store.dialect import upsert
from flockdesk.store.schema import chat_cursors, sources

log = logging.getLogger(__name__)

SOURCE_KIND = "xchat"
MAX_CONVERSATION_PAGES = 20
CHAT_EVENT_TYPES = ("chat.received", "chat.sent", "chat.conversation_join")
MALFORMED_RETRIES = 3  # per request, as the sweeps: each bad answer is kept as a dead letter
RATE_WAITS = 5  # per request: 429s with a near reset waited out before the poll is deferred

T = TypeVar("T")


@dataclass
class ChatPollResult:
    state: str  # done | deferred | failed | stopped
    conversations: int = 0
    items: int = 0
    dead: int = 0
    retry_at: float | None = None
    error: str | None = None


def conversation_cursors(engine: Engine, account_id: int) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(chat_cursors.c.conversation_id, chat_cursors.c.last_event_id).where(
                chat_cursors.c.account_id == account_id
            )
        )
        return {r.conversation_id: r.last_event_id for r in rows}


def _cursor_writer(account_id: int, conversation_id: str, event_id: str) -> Callable[[Connection], None]:
    def write(conn: Connection) -> None:
        stmt = upsert(conn, chat_cursors)
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["account_id", "conversation_id"],
                set_={"last_event_id": stmt.excluded.last_event_id, "updated_at": stmt.excluded.updated_at},
            ),
            {
                "account_id": account_id,
                "conversation_id": conversation_id,
                "last_event_id": event_id,
                "updated_at": utcnow(),
            },
        )

    return write


def poll(
    engine: Engine,
    ingestor: Any,
    connector: object,
    *,
    account_id: int,
    source_id: int,
    should_stop: Callable[[], bool] = lambda: False,
    inline_wait_max_s: float = 2.0,
    sleep: Callable[[float], object] = time.sleep,
    clock: Callable[[], float] = time.time,
) -> ChatPollResult:
    """One poll of the account's encrypted conversations (module docstring)."""
    if not isinstance(connector, ChatReader):
        return ChatPollResult("failed", error="this platform has no encrypted chat to poll")
    since, _, _ = load_cursor(engine, source_id)
    cursors = conversation_cursors(engine, account_id)
    out = ChatPollResult("stopped")
    newest = since
    token: str | None = None

    def read(call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        malformed = waits = 0
        while True:
            try:
                return call(*args, **kwargs)
            except MalformedResponse as exc:
                malformed += 1
                dead = DeadLetter(
                    f"{exc.platform}:{SOURCE_KIND}", f"malformed response: {exc.detail}", exc.body
                )
                ingestor.ingest_page(account_id, [], dead=[dead], source_id=source_id)
                out.dead += 1
                if malformed > MALFORMED_RETRIES:
                    raise
            except RateLimited as exc:
                wait = None if exc.reset_at is None else max(0.0, exc.reset_at - clock())
                waits += 1
                if wait is None or wait > inline_wait_max_s or waits > RATE_WAITS or should_stop():
                    raise
                sleep(wait)

    try:
        for _ in range(MAX_CONVERSATION_PAGES):
            listed = read(connector.fetch_chat_conversations, pagination_token=token)
            older = False
            for conv in listed.conversations:
                if should_stop():
                    return out
                if since and conv.updated_at and conv.updated_at < since:
                    older = True  # listed most recent first: the rest was read by an earlier poll
                    break
                if conv.updated_at and (newest is None or conv.updated_at > newest):
                    newest = conv.updated_at
                page = read(
                    connector.fetch_chat_events, conv, since_id=cursors.get(conv.id), authors=listed.authors
                ).page
                out.conversations += 1
                if page.newest_id is None:
                    continue
                result = ingestor.ingest_page(
                    account_id,
                    page.items,
                    dead=page.dead,
                    source_id=source_id,
                    also=_cursor_writer(account_id, conv.id, page.newest_id),
                )
                cursors[conv.id] = page.newest_id
                out.items += int(getattr(result, "inserted", len(page.items)))
                out.dead += len(page.dead)
            if older or not listed.next_token:
                break
            token = listed.next_token
    except ChatKeysMissing as exc:
        return ChatPollResult("done", error=exc.detail)
    except RateLimited as exc:
        out.state, out.retry_at, out.error = "deferred", exc.reset_at, f"rate limited: {exc.detail}"
        return out
    except (AuthError, ConnectorError) as exc:
        out.state, out.error = "failed", exc.detail
        return out
    ingestor.ingest_page(account_id, [], cursor=CursorUpdate(source_id, newest, None, None))
    out.state = "done"
    return out


def chat_source_id(engine: Engine, account_id: int) -> int | None:
    with engine.connect() as conn:
        found = conn.execute(
            sa.select(sources.c.id).where(sources.c.account_id == account_id, sources.c.kind == SOURCE_KIND)
        ).scalar()
    return int(found) if found is not None else None


class ChatEvents:
    """The ChatEventSink (connectors/base.py) the real-time stream calls with each chat event."""

    def __init__(self, engine: Engine, ingestor: Any, connector_for: Callable[[int], object]) -> None:
        self.engine = engine
        self.ingestor = ingestor
        self.connector_for = connector_for

    def handle_chat_event(self, account_id: int, envelope: ChatEnvelope) -> None:
        event_type = envelope.event_type
        payload: object = envelope.payload
        if event_type not in CHAT_EVENT_TYPES:
            return
        source_id = chat_source_id(self.engine, account_id)
        if not isinstance(payload, Mapping):
            self._dead(account_id, source_id, f"{event_type} without a payload", envelope)
            return
        connector = self.connector_for(account_id)
        if not isinstance(connector, ChatReader):
            self._dead(account_id, source_id, "this platform has no encrypted chat", envelope)
            return
        try:
            page = connector.decrypt_chat_event(dict(payload), event_type=event_type)
        except ChatKeysMissing as exc:
            self._dead(account_id, source_id, exc.detail, envelope)
            return
        # a connector error (the sender's public keys could not be read) propagates: the stream keeps
        # the event for its retry or backfill, and the poll reads it anyway
        self.ingestor.ingest_page(account_id, page.items, dead=page.dead, source_id=source_id)

    def _dead(self, account_id: int, source_id: int | None, reason: str, envelope: ChatEnvelope) -> None:
        payload = orjson.dumps(
            {
                "event_type": envelope.event_type,
                "event_uuid": envelope.event_uuid,
                "payload": envelope.payload,
            },
            default=str,
        ).decode()
        self.ingestor.ingest_page(
            account_id, [], dead=[DeadLetter("x:xchat", reason, payload)], source_id=source_id
        )
