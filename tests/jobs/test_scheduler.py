"""One schedule shared by several workers: each periodic job runs once per interval across them, each
source is polled by one worker at a time, a killed worker's leases run out and another takes over, a
stopped worker gives its leases back, and a worker alone (no web process) wakes snoozed conversations."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.domain.utc import utcnow
from flockdesk.jobs.registry import JobContext, Registry, default_registry
from flockdesk.jobs.worker import Worker, WorkerOptions
from flockdesk.services import schedule
from flockdesk.services.conversations import actions as conversations
from flockdesk.services.ingest.ingestor import Ingestor
from flockdesk.settings import Settings
from flockdesk.store.db import make_engine
from flockdesk.store.schema import job_leases, sources
from tests.e2e.harness import wait_until
from tests.rows import FakeConnector, add_source_row
from tests.seed_data import T0
from tests.services.seed import world

TTL = 20.0


class Clock:
    def __init__(self) -> None:
        self.t = T0.timestamp()

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def engines(settings: Settings, engine: Engine) -> Iterator[list[Engine]]:
    """Two more connection pools on the same store, as two worker processes would have."""
    extra = [make_engine(settings), make_engine(settings)]
    yield extra
    for e in extra:
        e.dispose()


def _counting_registry(runs: list[str], every_s: float = 60.0) -> Registry:
    reg = Registry()

    def count(ctx: JobContext) -> int:
        runs.append("count")
        return len(runs)

    reg.add("count", every_s, count)
    return reg


def _worker(engine: Engine, settings: Settings, clock: Clock, registry: Registry, name: str) -> Worker:
    return Worker(
        engine,
        settings.model_copy(update={"lease_ttl_s": TTL}),
        ingestor=Ingestor(engine),
        clock=clock,
        registry=registry,
        owner=name,
    )


def test_two_workers_run_a_job_once_per_interval(
    settings: Settings, engines: list[Engine], clock: Clock
) -> None:
    runs: list[str] = []
    reg = _counting_registry(runs)
    a = _worker(engines[0], settings, clock, reg, "a")
    b = _worker(engines[1], settings, clock, reg, "b")
    for _ in range(4):
        a.tick()
        b.tick()
        clock.t += 10
    assert runs == ["count"]
    clock.t += 25  # 65 s after the first run
    for _ in range(3):
        b.tick()
        a.tick()
    assert runs == ["count", "count"]


def test_a_killed_workers_job_is_taken_over_when_its_lease_runs_out(
    engine: Engine, settings: Settings, clock: Clock
) -> None:
    runs: list[str] = []
    survivor = _worker(engine, settings, clock, _counting_registry(runs), "survivor")
    schedule.ensure_jobs(engine, ["count"], now=survivor.now())
    # "dead" claimed the job and was killed before it finished: it never renews nor releases
    assert schedule.claim_job(engine, "dead", ["count"], now=survivor.now(), ttl_s=TTL) == "count"
    survivor.tick()
    clock.t += TTL - 1
    survivor.tick()
    assert runs == []
    clock.t += 2
    survivor.tick()
    assert runs == ["count"]
    with engine.connect() as conn:
        row = conn.execute(sa.select(job_leases).where(job_leases.c.name == "count")).mappings().one()
    assert row["owner"] is None and row["last_error"] is None


def test_a_source_is_polled_by_one_worker_at_a_time(
    engine: Engine, settings: Settings, account_id: int, clock: Clock
) -> None:
    sid = add_source_row(engine, account_id, "mentions")
    fake = FakeConnector(ids=[5, 6, 7])
    a = _worker(engine, settings, clock, Registry(), "a")
    b = _worker(engine, settings, clock, Registry(), "b")
    for w in (a, b):
        w.connector = lambda _account_id: fake
    clock.t = utcnow().timestamp()
    held = schedule.claim_source(engine, "a", now=a.now(), ttl_s=TTL)  # a is in the middle of a sweep
    assert held is not None and held["id"] == sid
    assert b.tick().swept == {}
    assert b.tick(all_enabled=True).swept == {}  # not even a forced pass takes a held source
    clock.t += TTL + 1  # a was killed mid-sweep
    assert b.tick().swept[sid].state == "done"
    assert a.tick().swept == {}  # b polled it: not due again for 60 s
    assert len(fake.calls) == 1


def test_a_stopped_worker_gives_its_leases_back(
    engine: Engine, settings: Settings, account_id: int, clock: Clock
) -> None:
    sid = add_source_row(engine, account_id, "mentions")
    clock.t = utcnow().timestamp()
    a = _worker(engine, settings, clock, Registry(), "a")
    assert schedule.claim_source(engine, "a", now=a.now(), ttl_s=TTL) is not None
    a.stop.set()
    a.run()  # stops at once and gives back what it holds
    b = _worker(engine, settings, clock, Registry(), "b")
    b.connector = lambda _account_id: FakeConnector(ids=[1])
    assert b.tick().swept[sid].state == "done"  # no need to wait out the TTL
    with engine.connect() as conn:
        assert conn.execute(sa.select(sources.c.lease_owner).where(sources.c.id == sid)).scalar() is None


def test_a_failing_job_is_logged_and_the_others_still_run(
    engine: Engine, settings: Settings, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    reg = Registry()
    reg.add("broken", 30.0, lambda ctx: 1 / 0)
    reg.add("fine", 30.0, lambda ctx: "ok")
    report = _worker(engine, settings, clock, reg, "a").tick()
    assert report.jobs == {"broken": None, "fine": "ok"}
    assert any(r.exc_info for r in caplog.records)
    with engine.connect() as conn:
        rows = {r.name: r for r in conn.execute(sa.select(job_leases))}
    assert "ZeroDivisionError" in rows["broken"].last_error and rows["fine"].last_error is None
    assert rows["broken"].next_run_at.replace(tzinfo=None) == (T0 + timedelta(seconds=30)).replace(
        tzinfo=None
    )


def test_the_registry_holds_every_periodic_job_once() -> None:
    reg = default_registry()
    assert {"outbox.send", "conversations.wake_due", "monitoring.spike_check"} <= set(reg.names())
    assert {"monitoring.alert_delivery", "team.presence_purge"} <= set(reg.names())
    with pytest.raises(ValueError, match="already registered"):
        reg.add("outbox.send", 1.0, lambda ctx: None)


def test_a_worker_alone_wakes_a_snoozed_conversation(engine: Engine, settings: Settings) -> None:
    ids = world(engine)
    cid = ids["public"]
    past = utcnow() - timedelta(hours=2)
    conversations.snooze(engine, cid, ids["agent"], past + timedelta(hours=1), now=past)  # due an hour ago
    stop = threading.Event()
    worker = Worker(engine, settings, stop=stop, options=WorkerOptions(idle_sleep_max_s=0.1))
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        wait_until(
            lambda: conversations.get_conversation(engine, cid).conversation.status == "open",
            30,
            "the worker to wake the snoozed conversation",
        )
    finally:
        stop.set()
        thread.join(timeout=30)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).where(job_leases.c.owner.is_not(None))).scalar() == 0
