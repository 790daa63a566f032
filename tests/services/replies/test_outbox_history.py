"""Every reply the outbox sends is a `reply_sent` row in its conversation's history, and the first
one is the first response (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from flockdesk.domain.types import SendResult
from flockdesk.services.conversations import history
from flockdesk.services.replies import outbox
from tests.services.seed import account, contact, conversation, message, user


def _send(engine: Engine, account_id: int, cid: int, text: str, by: int, external_id: str) -> int:
    row_id = outbox.enqueue(
        engine,
        account_id=account_id,
        kind="reply",
        text=text,
        conversation_id=cid,
        in_reply_to="1",
        created_by=by,
    )
    row = outbox.claim_next(engine)
    assert row is not None and row["id"] == row_id
    outbox.mark_sent(engine, row, SendResult(external_id))
    return row_id


def test_each_sent_reply_is_recorded_and_the_first_is_the_first_response(engine: Engine) -> None:
    acct = account(engine)
    agent = user(engine, "alice")
    ct = contact(engine, external_id="55", username="lee")
    started = datetime.now(UTC) - timedelta(minutes=10)
    cid = conversation(engine, acct, ct, at=started)
    message(engine, cid, "@acme where is my refund", contact_id=ct, at=started)

    first = _send(engine, acct, cid, "Looking into it", agent, "9001")
    second = _send(engine, acct, cid, "Refund sent", agent, "9002")

    events = history.timeline(engine, cid)
    assert [(e.kind, e.actor, e.detail) for e in events] == [
        ("reply_sent", "alice", {"outbox_id": first, "outbox_kind": "reply"}),
        ("reply_sent", "alice", {"outbox_id": second, "outbox_kind": "reply"}),
    ]
    assert "first_response_at" in events[0].changes and "first_response_at" not in events[1].changes
    times = history.response_times(engine, [cid])[cid]
    assert times.first_response_at == events[0].at


def test_a_reply_that_changes_no_column_is_still_in_the_timeline(engine: Engine) -> None:
    acct = account(engine)
    ct = contact(engine, external_id="56", username="max")
    ahead = datetime.now(UTC) + timedelta(hours=1)  # the platform's clock ran ahead of ours
    cid = conversation(engine, acct, ct, at=ahead, waiting_since=None, priority=0.0)
    sent = _send(engine, acct, cid, "Anything else?", user(engine, "bob"), "9003")
    (event,) = history.timeline(engine, cid)
    assert (event.kind, event.changes, event.detail["outbox_id"]) == ("reply_sent", {}, sent)
