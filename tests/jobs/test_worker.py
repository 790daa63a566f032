"""The worker's schedule: budget policy, failures that back off without killing it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.connectors.base import TransientError
from flockdesk.jobs.worker import Worker, WorkerOptions
from flockdesk.services.accounts import costs
from flockdesk.services.replies import outbox
from flockdesk.settings import Settings
from flockdesk.store.schema import messages, sources
from flockdesk.store.schema import outbox as outbox_t
from tests.rows import FakeConnector, add_source_row, count


class BrokenConnector(FakeConnector):
    def fetch_dm_events(self, *, pagination_token: str | None = None) -> object:
        raise KeyError("a bug in the DM path")


def _source(engine: Engine, sid: int) -> sa.RowMapping:
    with engine.connect() as conn:
        return conn.execute(sa.select(sources).where(sources.c.id == sid)).mappings().one()


def _worker(engine: Engine, settings: Settings, fake: FakeConnector) -> Worker:
    worker = Worker(engine, settings, options=WorkerOptions(failure_backoff_base_s=5.0))
    worker.connector = lambda _account_id: fake  # type: ignore[method-assign]
    return worker


def test_a_bug_in_one_source_backs_off_and_the_others_go_on(
    engine: Engine, settings: Settings, account_id: int, caplog: pytest.LogCaptureFixture
) -> None:
    mentions = add_source_row(engine, account_id, "mentions")
    dms = add_source_row(engine, account_id, "dms")
    worker = _worker(engine, settings, BrokenConnector(ids=[5, 6, 7]))
    report = worker.tick()
    assert report.swept[mentions].state == "done" and report.swept[dms].state == "failed"
    assert count(engine, messages) == 3
    broken = _source(engine, dms)
    assert "KeyError" in broken["last_error"]
    wait = (broken["next_poll_at"].replace(tzinfo=UTC) - datetime.now(UTC)).total_seconds()
    assert 3 < wait <= 5.5  # backs off instead of retrying in a loop
    assert any(r.exc_info for r in caplog.records), "the bug is logged with its stack trace"
    assert list(worker.tick().swept) == []  # nothing due yet


def test_spent_budget_pauses_reads_but_not_dms(engine: Engine, settings: Settings, account_id: int) -> None:
    search = add_source_row(engine, account_id, "search", "#acme -is:retweet")
    dms = add_source_row(engine, account_id, "dms")
    costs.record_call(engine, account_id, "search", int(settings.monthly_budget_usd / 0.005) + 1)
    fake = FakeConnector()
    fake.fetch_search = lambda *a, **k: pytest.fail("search polled over budget")  # type: ignore[method-assign]
    fake.fetch_dm_events = lambda **k: FakeConnector().fetch_mentions("1")  # type: ignore[method-assign]
    report = _worker(engine, settings, fake).tick()
    assert report.swept[dms].state == "done" and report.swept[dms].error is None
    assert "budget" in (_source(engine, search)["last_error"] or "")


def test_outbox_grace_period_comes_from_settings(engine: Engine, settings: Settings, account_id: int) -> None:
    def status(oid: int) -> str:
        with engine.connect() as conn:
            return str(conn.execute(sa.select(outbox_t.c.status).where(outbox_t.c.id == oid)).scalar_one())

    oid = outbox.enqueue(engine, account_id=account_id, kind="reply", text="hi", in_reply_to="9")
    fake = FakeConnector(send_error=TransientError("timeout", maybe_applied=True))
    patient = _worker(engine, settings, fake)  # default: 300 s
    assert patient.outbox_grace_s == settings.outbox_grace_s == 300.0
    patient.send_outbox()
    fake.send_error = None
    patient.send_outbox()
    assert status(oid) == "sending"  # in doubt, within the grace period: neither resent nor failed
    hasty = _worker(engine, settings.model_copy(update={"outbox_grace_s": 0.0}), fake)
    hasty.send_outbox()
    assert status(oid) == "failed" and fake.sent == []
    explicit = Worker(engine, settings, options=WorkerOptions(outbox_grace_s=5.0))
    assert explicit.outbox_grace_s == 5.0  # an explicit option still wins


def test_outbox_grace_setting_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOCKDESK_OUTBOX_GRACE_S", "42")
    assert Settings().outbox_grace_s == 42.0
    monkeypatch.setenv("FLOCKDESK_OUTBOX_GRACE_S", "-1")
    with pytest.raises(ValueError, match="greater than or equal to 0"):
        Settings()
