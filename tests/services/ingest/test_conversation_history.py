"""Conversation state through ingest and the outbox, and the history both write (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.domain.types import InboundItem, SendResult
from flockdesk.services.conversations import history, inbox
from flockdesk.services.ingest.ingestor import Ingestor
from flockdesk.services.replies import outbox
from flockdesk.store.schema import conversations, messages
from tests.services.ingest.builders import ORG, mentions, tweet


def _triage(items: Sequence[InboundItem]) -> list[dict[str, Any]]:
    return [{"intent": "complaint", "priority": 0.9 if "lost" in i.text else 0.2} for i in items]


def _conv_of(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {r.external_id: r.conversation_id for r in conn.execute(sa.select(messages))}


def _conversation(engine: Engine, cid: int) -> Any:
    with engine.connect() as conn:
        return conn.execute(sa.select(conversations).where(conversations.c.id == cid)).mappings().one()


def test_a_sent_reply_drops_the_conversation_down_the_inbox_before_its_echo(
    engine: Engine, account_id: int
) -> None:
    ing = Ingestor(engine, triage=_triage)
    ing.ingest_page(
        account_id,
        mentions(tweet("80", "200", "@acme my bag is lost"), tweet("90", "300", "@acme hello", minutes=1)),
    )
    urgent, calm = _conv_of(engine)["80"], _conv_of(engine)["90"]
    first = [r.conversation_id for r in inbox.list_view(engine, "all").rows]
    assert first == [urgent, calm]

    outbox.enqueue(
        engine,
        account_id=account_id,
        kind="reply",
        text="Sorry! DM us.",
        conversation_id=urgent,
        in_reply_to="80",
    )
    row = outbox.claim_next(engine)
    assert row is not None
    outbox.mark_sent(engine, row, SendResult("81"))

    sent = _conversation(engine, urgent)
    assert sent["waiting_since"] is None and sent["first_response_at"] is not None
    assert sent["priority"] == pytest.approx(0.0)  # was left at 0.9 until the echo came back
    assert [r.conversation_id for r in inbox.list_view(engine, "all").rows] == [calm, urgent]

    # the echo changes nothing more: the send already was the same transition
    echo = mentions(tweet("81", ORG, "@u200 Sorry! DM us.", conv="80", reply_to="80", minutes=5))
    ing.ingest_page(account_id, echo)
    after = _conversation(engine, urgent)
    assert (after["priority"], after["waiting_since"], after["status"]) == (sent["priority"], None, "open")
    assert [r.conversation_id for r in inbox.list_view(engine, "all").rows] == [calm, urgent]
    kinds = [e.kind for e in history.timeline(engine, urgent)]
    assert kinds == ["created", "reply_sent"]


def test_ingest_writes_one_history_row_per_changed_conversation_in_one_statement(
    engine: Engine, account_id: int
) -> None:
    inserts: list[str] = []

    def spy(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "conversation_events" in statement and statement.lstrip().upper().startswith("INSERT"):
            inserts.append(statement)

    ing = Ingestor(engine, triage=_triage)
    sa.event.listen(engine, "before_cursor_execute", spy)
    try:
        ing.ingest_page(
            account_id, mentions(*[tweet(str(100 + i), str(500 + i), "@acme hi") for i in range(30)])
        )
        assert len(inserts) == 1
        ing.ingest_page(
            account_id,
            mentions(
                *[
                    tweet(str(200 + i), str(500 + i), "bag lost", conv=str(100 + i), minutes=3)
                    for i in range(30)
                ]
            ),
        )
        assert len(inserts) == 2
        ing.ingest_page(account_id, mentions(tweet("100", "500", "@acme hi")))  # a duplicate: no change
        assert len(inserts) == 2
    finally:
        sa.event.remove(engine, "before_cursor_execute", spy)
    events = history.events_of(engine, list(set(_conv_of(engine).values())))
    assert len(events) == 30
    for timeline in events.values():
        assert [(e.kind, e.from_status, e.to_status, e.actor) for e in timeline] == [
            ("created", None, "open", "system"),
            ("inbound", "open", "open", "system"),
        ]
        assert timeline[1].changes["priority"] == [0.2, 0.9]


def test_an_echo_of_a_post_made_elsewhere_is_history_as_a_resolved_conversation(
    engine: Engine, account_id: int
) -> None:
    Ingestor(engine).ingest_page(account_id, mentions(tweet("70", ORG, "Our new app is out")))
    (cid,) = _conv_of(engine).values()
    (event,) = history.timeline(engine, cid)
    assert (event.kind, event.from_status, event.to_status) == ("created", None, "resolved")
