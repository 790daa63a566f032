from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.connectors.base import PlatformRejected, RateLimited, TransientError
from flockdesk.domain.errors import Conflict
from flockdesk.domain.utc import utcnow
from flockdesk.services.replies import outbox
from flockdesk.store.schema import conversations, messages
from flockdesk.store.schema import outbox as outbox_t
from tests.rows import FakeConnector, add_conversation_row, count


def _row(engine: Engine, outbox_id: int) -> sa.RowMapping:
    with engine.connect() as conn:
        return conn.execute(sa.select(outbox_t).where(outbox_t.c.id == outbox_id)).mappings().one()


def test_reply_is_sent_once_and_stored_in_its_conversation(engine: Engine, account_id: int) -> None:
    conv = add_conversation_row(engine, account_id, "public", "555")
    oid = outbox.enqueue(
        engine,
        account_id=account_id,
        kind="reply",
        text="Sorry! DM us.",
        conversation_id=conv,
        in_reply_to="555",
        idempotency_key="k1",
    )
    assert (
        outbox.enqueue(
            engine,
            account_id=account_id,
            kind="reply",
            text="Sorry! DM us.",
            conversation_id=conv,
            in_reply_to="555",
            idempotency_key="k1",
        )
        == oid
    )  # same key, same row
    fake = FakeConnector()
    report = outbox.send_pending(engine, lambda _a: fake)
    assert report.sent == 1
    assert fake.sent == [("post", "Sorry! DM us.", "555")]
    row = _row(engine, oid)
    assert row["status"] == "sent" and row["external_id"] == "900001" and row["attempts"] == 1
    assert count(engine, messages, messages.c.conversation_id == conv, messages.c.direction == "out") == 1
    with engine.connect() as c:
        conv_row = c.execute(sa.select(conversations).where(conversations.c.id == conv)).mappings().one()
    assert conv_row["waiting_since"] is None and conv_row["first_response_at"] is not None
    assert outbox.send_pending(engine, lambda _a: fake).sent == 0  # nothing is sent twice
    assert len(fake.sent) == 1


def test_dm_row_goes_only_through_the_dm_api(engine: Engine, account_id: int) -> None:
    conv = add_conversation_row(engine, account_id, "dm", "1000-2000")
    outbox.enqueue(
        engine,
        account_id=account_id,
        kind="dm",
        text="Here is your refund",
        conversation_id=conv,
        recipient="2000",
    )
    fake = FakeConnector()
    outbox.send_pending(engine, lambda _a: fake)
    assert fake.sent == [("dm", "Here is your refund", "2000")]


def test_a_public_reply_into_a_dm_conversation_is_refused(engine: Engine, account_id: int) -> None:
    conv = add_conversation_row(engine, account_id, "dm", "1000-2000")
    oid = outbox.enqueue(
        engine,
        account_id=account_id,
        kind="reply",
        text="private stuff",
        conversation_id=conv,
        in_reply_to="1",
    )
    fake = FakeConnector()
    report = outbox.send_pending(engine, lambda _a: fake)
    assert report.failed == 1 and fake.sent == []
    assert "never answered in public" in _row(engine, oid)["error"]


def test_platform_reason_is_kept_on_failure_and_retry_is_a_new_attempt(
    engine: Engine, account_id: int
) -> None:
    conv = add_conversation_row(engine, account_id, "public", "777")
    oid = outbox.enqueue(
        engine, account_id=account_id, kind="reply", text="hi", conversation_id=conv, in_reply_to="777"
    )
    fake = FakeConnector(send_error=PlatformRejected(403, "403 You are not allowed to reply to this post"))
    outbox.send_pending(engine, lambda _a: fake)
    row = _row(engine, oid)
    assert row["status"] == "failed" and "not allowed to reply" in row["error"]
    with pytest.raises(Conflict):
        outbox.retry(
            engine, outbox.enqueue(engine, account_id=account_id, kind="reply", text="x", in_reply_to="777")
        )
    new_id = outbox.retry(engine, oid)
    assert new_id != oid and _row(engine, new_id)["status"] == "queued"
    with pytest.raises(Conflict, match="already"):
        outbox.retry(engine, oid)  # a double click never makes a second attempt
    fake.send_error = None
    outbox.send_pending(engine, lambda _a: fake)
    assert _row(engine, new_id)["status"] == "sent" and _row(engine, oid)["status"] == "failed"


def test_rate_limit_requeues_without_sending(engine: Engine, account_id: int) -> None:
    oid = outbox.enqueue(engine, account_id=account_id, kind="reply", text="hi", in_reply_to="9")
    fake = FakeConnector(send_error=RateLimited("post_create", None))
    report = outbox.send_pending(engine, lambda _a: fake)
    assert report.requeued == 1 and account_id in report.blocked_accounts
    assert _row(engine, oid)["status"] == "queued"


def test_ambiguous_failure_is_never_resent_and_fails_after_grace(engine: Engine, account_id: int) -> None:
    oid = outbox.enqueue(engine, account_id=account_id, kind="reply", text="hi", in_reply_to="9")
    fake = FakeConnector(send_error=TransientError("timeout", maybe_applied=True))
    report = outbox.send_pending(engine, lambda _a: fake)
    assert report.in_doubt == 1 and _row(engine, oid)["status"] == "sending"
    fake.send_error = None
    outbox.send_pending(engine, lambda _a: fake)  # within the grace period: left alone, not resent
    assert fake.sent == [] and _row(engine, oid)["status"] == "sending"
    assert outbox.reconcile_interrupted(engine, grace_s=60, now=utcnow() + timedelta(seconds=61)) == 1
    row = _row(engine, oid)
    assert row["status"] == "failed" and row["error"] == outbox.interrupted("X")
    assert fake.sent == []


def test_crash_between_claim_and_send_is_at_most_once(engine: Engine, account_id: int) -> None:
    oid = outbox.enqueue(engine, account_id=account_id, kind="reply", text="hi", in_reply_to="9")
    claimed = outbox.claim_next(engine)  # the worker dies right after this commit
    assert claimed is not None and claimed["id"] == oid
    assert outbox.claim_next(engine) is None  # nobody else picks it up
    fake = FakeConnector()
    outbox.send_pending(engine, lambda _a: fake, grace_s=0)
    assert fake.sent == [] and _row(engine, oid)["status"] == "failed"


def test_an_account_paused_by_the_pacer_keeps_its_rows_queued(engine: Engine, account_id: int) -> None:
    oid = outbox.enqueue(engine, account_id=account_id, kind="reply", text="hi", in_reply_to="9")

    def paused(_account: int) -> FakeConnector:
        raise RateLimited("post_create", None)

    report = outbox.send_pending(engine, paused)
    assert report.requeued == 1 and _row(engine, oid)["status"] == "queued"
