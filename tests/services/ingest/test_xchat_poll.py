"""The X Chat poll under faulty answers: a malformed answer is kept as a dead letter and the same
request made again, a 429 whose reset is near is waited out in place, and a poll that would need more
than that is deferred or failed as before, keeping what it read. Both backends."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.connectors.base import (
    ChatConversation,
    FetchedChatConversations,
    FetchedPage,
    MalformedResponse,
    RateLimited,
)
from flockdesk.domain.types import InboundItem, Page
from flockdesk.services.ingest import xchat
from flockdesk.services.ingest.ingestor import Ingestor
from flockdesk.store.schema import dead_letters, messages, sources
from tests.services.ingest.builders import ORG, T0


class FlakyChats:
    """Three 1:1 conversations with one message each; `faults` is the queue of what the next calls
    raise instead of answering (None: answer)."""

    def __init__(self, faults: list[Exception | None]) -> None:
        self.faults = faults
        self.calls: list[str] = []
        self.convs = [
            ChatConversation(f"{ORG}-{200 + i}", (ORG, str(200 + i)), False, f"2026-11-01T12:0{i}:00Z")
            for i in range(3)
        ]

    def _fault(self, what: str) -> None:
        self.calls.append(what)
        fault = self.faults.pop(0) if self.faults else None
        if fault is not None:
            raise fault

    def fetch_chat_conversations(self, *, pagination_token: str | None = None) -> FetchedChatConversations:
        self._fault("list")
        return FetchedChatConversations(conversations=list(reversed(self.convs)))

    def fetch_chat_events(
        self,
        conversation: ChatConversation,
        *,
        since_id: str | None = None,
        authors: dict[str, Any] | None = None,
    ) -> FetchedPage:
        self._fault(conversation.id)
        customer = conversation.participant_ids[1]
        seq = f"9{customer}"
        if since_id is not None and since_id >= seq:
            return FetchedPage(Page())
        item = InboundItem(
            platform="x",
            external_id=f"xchat:{seq}",
            kind="dm",
            thread_kind="dm",
            thread_id=conversation.id,
            channel="dm",
            author_id=customer,
            text=f"hello from {customer}",
            created_at=T0,
        )
        return FetchedPage(Page(items=[item], newest_id=seq))

    def decrypt_chat_event(self, payload: dict[str, Any], *, event_type: str) -> Page:
        raise NotImplementedError


def _source(engine: Engine, account_id: int) -> int:
    with engine.begin() as conn:
        return int(
            conn.execute(
                sources.insert().returning(sources.c.id),
                {"account_id": account_id, "kind": "xchat", "poll_interval_s": 60.0, "created_at": T0},
            ).scalar_one()
        )


def _poll(
    engine: Engine, account_id: int, chats: FlakyChats, slept: list[float], now: float
) -> xchat.ChatPollResult:
    return xchat.poll(
        engine,
        Ingestor(engine),
        chats,
        account_id=account_id,
        source_id=_source(engine, account_id),
        inline_wait_max_s=2.0,
        sleep=slept.append,
        clock=lambda: now,
    )


def _stored(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(sa.select(messages.c.external_id)).scalars())


def _dead(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(dead_letters.c.reason)).scalars())


def _malformed(endpoint: str) -> MalformedResponse:
    return MalformedResponse(
        endpoint, "response is not JSON: unexpected end of data", f'{{"{endpoint}": [', platform="x"
    )


def test_malformed_answers_and_near_resets_do_not_end_the_poll(engine: Engine, account_id: int) -> None:
    now = datetime(2026, 11, 1, 12, 30, tzinfo=UTC).timestamp()
    chats = FlakyChats(
        [
            _malformed("chat_conversations"),
            None,
            RateLimited("chat_events", now + 1.5),
            None,
            _malformed("chat_events"),
        ]
    )
    slept: list[float] = []
    got = _poll(engine, account_id, chats, slept, now)
    assert got.state == "done", got
    assert _stored(engine) == ["xchat:9200", "xchat:9201", "xchat:9202"]
    assert slept == [1.5]  # the 429 waited out once, in place
    # each faulty answer asked again: the listing twice, the newest conversation twice, the next twice
    assert chats.calls == [
        "list",
        "list",
        f"{ORG}-202",
        f"{ORG}-202",
        f"{ORG}-201",
        f"{ORG}-201",
        f"{ORG}-200",
    ]
    reasons = _dead(engine)
    assert len(reasons) == 2 and all(
        r.startswith("malformed response: response is not JSON") for r in reasons
    )


def test_a_far_reset_defers_and_endless_malformed_answers_fail_keeping_what_was_read(
    engine: Engine, account_id: int
) -> None:
    now = datetime(2026, 11, 1, 12, 30, tzinfo=UTC).timestamp()
    slept: list[float] = []
    far = FlakyChats([None, None, RateLimited("chat_events", now + 900)])
    got = _poll(engine, account_id, far, slept, now)
    assert (got.state, got.retry_at) == ("deferred", now + 900) and slept == []
    assert _stored(engine) == ["xchat:9202"]  # the newest conversation was read before the 429
    bad = FlakyChats([None, *[_malformed("chat_events")] * (xchat.MALFORMED_RETRIES + 1)])
    got = _poll(engine, account_id, bad, slept, now)
    assert got.state == "failed" and "not JSON" in (got.error or "")
    assert got.dead == xchat.MALFORMED_RETRIES + 1  # every try, though the same body is kept once
    assert len(_dead(engine)) == 1
    assert _stored(engine) == ["xchat:9202"]
