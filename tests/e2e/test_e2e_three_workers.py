"""Several workers: three `flockdesk worker` processes share one PostgreSQL store
and five sources (mentions, DMs, three listening queries) while emulator traffic arrives; workers are
killed with SIGKILL at random moments and restarted. Every message is stored exactly once, and the
emulator's request log shows that no source was polled by two workers in one interval: the start of
each sweep (a first page, answered 200) comes at least one poll interval after the previous one."""

from __future__ import annotations

import random
import re
import signal
import subprocess
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from flockdesk.services.accounts.connected import add_account
from flockdesk.services.accounts.sources import add_search_source
from flockdesk.settings import Settings

from .harness import (
    assert_exactly_once,
    emulator,
    expected_inbound,
    fast_settings,
    inbound_count,
    start_worker,
    traffic,
    truth,
    wait_until,
    worker_env,
)

WORKERS = 3
KILLS = 6
ROUNDS = 4
PER_ROUND = 1000
INTERVAL_S = 0.2  # every source's poll interval (harness.worker_env, fast_settings)
LEASE_TTL_S = 3.0
# the college scenario's hashtags and names, split over three queries (together: harness.scenario_query)
QUERIES = (
    "#OakridgeU",
    "#OakridgeBound OR #OakridgeOwls",
    '"Oakridge University" OR "Oakridge U" OR "Oakridge"',
)
TOKENS = ("pagination_token", "next_token")


def _source_of(req: dict[str, Any]) -> str | None:
    ep = str(req["endpoint"])
    if ep == "search":
        # While the mentions source is healthy the connector narrows a search with " -@account" (posts
        # that tag the account are cheaper as owned mentions); it is still the same source.
        return "search " + re.sub(r" -@\w+$", "", str(req["params"].get("query", "")))
    return ep if ep in ("mentions", "dm_events") else None


def sweep_starts(requests: list[dict[str, Any]]) -> dict[str, list[float]]:
    """source -> arrival times of the first pages of its sweeps that the emulator answered."""
    starts: dict[str, list[float]] = defaultdict(list)
    for req in requests:
        source = _source_of(req)
        if source and req["status"] == 200 and not any(t in req["params"] for t in TOKENS):
            starts[source].append(float(req["at"]))
    return {s: sorted(ts) for s, ts in starts.items()}


@pytest.mark.slow
def test_three_workers_with_kills_poll_each_source_once_per_interval_and_store_each_message_once(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("several workers share a PostgreSQL store")
    rng = random.Random(7)
    env = worker_env(settings, FLOCKDESK_LEASE_TTL_S=str(LEASE_TTL_S), FLOCKDESK_MONTHLY_BUDGET_USD="100000")
    fast = fast_settings(settings)
    logs = [tmp_path / f"worker{i}.log" for i in range(WORKERS)]
    with emulator() as emu:
        account = add_account(engine, fast, base_url=emu.base_url, token=emu.token)  # mentions + DMs
        for q in QUERIES:
            add_search_source(engine, fast, q, account_id=account.id)
        traffic(emu, PER_ROUND, seed=1)
        procs = [start_worker(env, logs[i]) for i in range(WORKERS)]
        kills = 0
        t0 = time.monotonic()
        try:
            for r in range(1, ROUNDS + 1):
                before = inbound_count(engine)
                if r > 1:
                    traffic(emu, PER_ROUND, seed=r)
                wait_until(lambda: inbound_count(engine) > before, 60, "the workers to ingest")
                for _ in range(KILLS // (ROUNDS - 1) if r > 1 else 0):
                    time.sleep(rng.uniform(0.05, 1.0))  # mid-page, mid-cursor, idle: any moment
                    victim = rng.randrange(WORKERS)
                    procs[victim].send_signal(signal.SIGKILL)
                    procs[victim].wait(timeout=10)
                    kills += 1
                    procs[victim] = start_worker(env, logs[victim])
            want = len(expected_inbound(truth(emu)))
            wait_until(lambda: inbound_count(engine) >= want, 180, f"{want} messages stored")
            time.sleep(2 * LEASE_TTL_S)  # a quiet spell: polls with nothing new still take turns
            for i, p in enumerate(procs):
                assert p.poll() is None, f"worker {i} died on its own:\n" + logs[i].read_text()[-3000:]
        finally:
            for p in procs:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
            for p in procs:
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
        elapsed = time.monotonic() - t0
        assert [p.returncode for p in procs] == [0] * WORKERS, "SIGTERM should stop each worker cleanly"
        t = truth(emu)
        assert_exactly_once(engine, t)
        requests = httpx.get(f"{emu.base_url}/_emulator/requests", timeout=60).json()["requests"]
    starts = sweep_starts(requests)
    assert len(starts) == 2 + len(QUERIES), sorted(starts)
    print(f"\n{len(expected_inbound(t))} messages stored once, {kills} kills, {elapsed:.1f}s")
    too_close = {}
    for source, ts in sorted(starts.items()):
        gaps = [b - a for a, b in zip(ts, ts[1:], strict=False)]
        span = ts[-1] - ts[0]
        print(
            f"  {source}: {len(ts)} sweeps in {span:.1f}s = {len(ts) / (span / INTERVAL_S):.2f} per "
            f"{INTERVAL_S}s interval; shortest gap {min(gaps):.3f}s"
        )
        close = [g for g in gaps if g < INTERVAL_S - 0.01]
        if close:
            too_close[source] = close
    assert kills == KILLS
    assert too_close == {}, f"sources polled twice within one interval: {too_close}"
