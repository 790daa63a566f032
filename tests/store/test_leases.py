"""Leases on both stores: a claim is exclusive, runs out after its TTL (another worker takes over),
is renewed by its holder and given back; under contention every row goes to exactly one worker."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.settings import Settings
from flockdesk.store import leases
from flockdesk.store.db import make_engine
from flockdesk.store.leases import JOBS
from flockdesk.store.schema import job_leases

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
TTL = 30.0


def _claim(engine: Engine, owner: str, now: datetime, **kw: Any) -> list[str]:
    with engine.begin() as conn:
        return [str(k) for k in leases.claim(conn, JOBS, owner, now=now, ttl_s=TTL, **kw)]


def _jobs(engine: Engine, *names: str, at: datetime = T0) -> None:
    with engine.begin() as conn:
        leases.ensure_jobs(conn, names, now=at)


def test_a_claim_is_exclusive_until_the_lease_runs_out(engine: Engine) -> None:
    _jobs(engine, "a")
    assert _claim(engine, "w1", T0) == ["a"]
    assert _claim(engine, "w2", T0 + timedelta(seconds=1)) == []  # held by w1
    assert _claim(engine, "w2", T0 + timedelta(seconds=TTL - 1)) == []
    # w1 was killed: it never renews; its lease runs out and w2 takes over
    assert _claim(engine, "w2", T0 + timedelta(seconds=TTL + 1)) == ["a"]
    with engine.connect() as conn:
        assert conn.execute(sa.select(job_leases.c.owner)).scalar_one() == "w2"


def test_renewal_keeps_the_lease_and_release_hands_it_on(engine: Engine) -> None:
    _jobs(engine, "a")
    assert _claim(engine, "w1", T0) == ["a"]
    with engine.begin() as conn:
        assert leases.renew(conn, JOBS, "w1", now=T0 + timedelta(seconds=TTL - 1), ttl_s=TTL) == 1
    assert _claim(engine, "w2", T0 + timedelta(seconds=TTL + 1)) == []  # renewed: still w1's
    later = T0 + timedelta(seconds=60)
    with engine.begin() as conn:
        assert leases.release(conn, JOBS, "a", "w1", next_run_at=later) is True
    assert _claim(engine, "w2", T0 + timedelta(seconds=TTL + 2)) == []  # free, but not due
    assert _claim(engine, "w2", later) == ["a"]


def test_a_worker_whose_lease_was_taken_over_cannot_release_it(engine: Engine) -> None:
    _jobs(engine, "a")
    _claim(engine, "w1", T0)
    assert _claim(engine, "w2", T0 + timedelta(seconds=TTL + 1)) == ["a"]
    with engine.begin() as conn:
        assert leases.release(conn, JOBS, "a", "w1", next_run_at=T0) is False
        assert leases.release_all(conn, JOBS, "w1") == 0
    with engine.connect() as conn:
        assert conn.execute(sa.select(job_leases.c.owner)).scalar_one() == "w2"


def test_release_all_frees_every_lease_of_a_stopping_worker(engine: Engine) -> None:
    _jobs(engine, "a", "b", "c")
    assert sorted(_claim(engine, "w1", T0, limit=2)) == ["a", "b"]
    with engine.begin() as conn:
        assert leases.release_all(conn, JOBS, "w1") == 2
    assert sorted(_claim(engine, "w2", T0 + timedelta(seconds=1), limit=5)) == ["a", "b", "c"]


def test_only_due_rows_are_claimed_unless_asked(engine: Engine) -> None:
    _jobs(engine, "soon", at=T0 + timedelta(minutes=5))
    _jobs(engine, "now", at=T0)
    assert _claim(engine, "w1", T0, limit=5) == ["now"]
    assert _claim(engine, "w1", T0, limit=5, due_only=False, exclude=["now"]) == ["soon"]


def test_ensure_jobs_keeps_an_existing_schedule(engine: Engine) -> None:
    _jobs(engine, "a", at=T0 + timedelta(hours=1))
    _jobs(engine, "a", "b", at=T0)
    with engine.connect() as conn:
        rows: dict[str, datetime] = dict(
            conn.execute(sa.select(job_leases.c.name, job_leases.c.next_run_at)).all()
        )
    assert rows["a"].replace(tzinfo=UTC) == T0 + timedelta(hours=1)
    assert rows["b"].replace(tzinfo=UTC) == T0


def test_concurrent_workers_never_claim_the_same_row(engine: Engine, settings: Settings) -> None:
    names = [f"job{i:02d}" for i in range(40)]
    _jobs(engine, *names)
    got: list[tuple[str, str]] = []
    lock = threading.Lock()
    start = threading.Barrier(4)

    def work(owner: str) -> None:
        eng = make_engine(settings)  # each worker its own pool, as separate processes would have
        try:
            start.wait()
            while True:
                with eng.begin() as conn:
                    claimed = leases.claim(conn, JOBS, owner, now=T0, ttl_s=TTL, limit=3)
                if not claimed:
                    return
                with lock:
                    got.extend((owner, n) for n in claimed)
        finally:
            eng.dispose()

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    times = Counter(n for _, n in got)
    assert sorted(times) == names and set(times.values()) == {1}
    with engine.connect() as conn:
        owners: dict[str, str] = dict(conn.execute(sa.select(job_leases.c.name, job_leases.c.owner)).all())
    assert owners == dict((n, o) for o, n in got)
