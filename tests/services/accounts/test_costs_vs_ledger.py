"""The cost meter (services/accounts/costs.py) against the emulator's own ledger of what X would
charge (emulator/billing.py): the two implement X's billing rules independently, and a worker's
realistic mix of reads and writes must cost the same by both, within 1%. Both stores."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.emulator.server import EmulatorServer
from flockdesk.jobs.stream import RealtimeOptions
from flockdesk.jobs.worker import Worker, WorkerOptions
from flockdesk.services.accounts import costs
from flockdesk.services.accounts.sources import list_sources
from flockdesk.services.replies import outbox
from flockdesk.settings import Settings
from flockdesk.store.schema import api_usage, billed_resources, messages, sync_cursors
from tests.e2e.harness import connect, emulator, expected_inbound, fast_settings, traffic, truth, wait_until


def _ledger(emu: EmulatorServer) -> dict:
    r = httpx.get(f"{emu.base_url}/_emulator/stats", params={"billing": 1}, timeout=10)
    r.raise_for_status()
    return r.json()["billing"]  # type: ignore[no-any-return]


def _meter(engine: Engine) -> tuple[float, dict[str, tuple[int, int, float]]]:
    """Total USD, and per endpoint (items returned, resources billed, USD), over every day."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                api_usage.c.endpoint,
                sa.func.sum(api_usage.c["items"]),
                sa.func.sum(api_usage.c.billed_items),
                sa.func.sum(api_usage.c.cost_usd),
            ).group_by(api_usage.c.endpoint)
        ).all()
    by = {str(r[0]): (int(r[1]), int(r[2]), float(r[3])) for r in rows}
    return sum(v[2] for v in by.values()), by


def _inbound(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(
            conn.execute(sa.select(messages.c.external_id).where(messages.c.direction == "in")).scalars()
        )


def _forget_search_cursor(engine: Engine) -> None:
    """A backfill: the next search sweep reads every matching post again from the start."""
    search = [s.id for s in list_sources(engine) if s.kind == "search"]
    with engine.begin() as conn:
        conn.execute(sa.delete(sync_cursors).where(sync_cursors.c.source_id.in_(search)))


def _sweep_until_stored(engine: Engine, worker: Worker, emu: EmulatorServer, timeout: float = 60) -> None:
    want = set(expected_inbound(truth(emu)))

    def done() -> bool:
        worker.tick(all_enabled=True)
        return want <= _inbound(engine)

    wait_until(done, timeout, f"{len(want)} messages stored", step=0.05)


def _worker(engine: Engine, settings: Settings, clock: Callable[[], float], name: str) -> Worker:
    return Worker(
        engine,
        settings,
        stop=threading.Event(),
        clock=clock,
        owner=name,
        options=WorkerOptions(
            failure_backoff_base_s=0.05,
            failure_backoff_cap_s=0.5,
            inline_wait_max_s=0.5,
            connector_kwargs={"backoff_base_s": 0.02, "backoff_cap_s": 0.2},
        ),
    )


def _answer(engine: Engine, emu: EmulatorServer, account_id: int, n: int, tag: str) -> int:
    """Agents answer: replies to posts that tagged the brand (summoned; the first one with a link)
    and DMs to people who wrote first; returns how many were queued."""
    t = truth(emu)
    org = emu.state.org.username.lower()
    mentions = [p for p in t["posts"] if not p["from_org"] and f"@{org}" in p["text"].lower()]
    dm_senders = list(dict.fromkeys(d["sender_id"] for d in t["dms"] if not d["from_org"]))
    for i, p in enumerate(mentions[-n:]):
        link = f" https://status.example/{tag}" if i == 0 else ""
        outbox.enqueue(
            engine, account_id=account_id, kind="reply", text=f"On it ({tag} {i}){link}", in_reply_to=p["id"]
        )
    for i, sender in enumerate(dm_senders[-n:]):
        outbox.enqueue(
            engine, account_id=account_id, kind="dm", text=f"How can we help? {tag} {i}", recipient=sender
        )
    return len(mentions[-n:]) + len(dm_senders[-n:])


def _send_all(worker: Worker, queued: int) -> None:
    sent = [0]

    def done() -> bool:
        report = worker.send_outbox()
        assert report.failed == 0, report
        sent[0] += report.sent
        return sent[0] >= queued

    wait_until(done, 60, f"{queued} messages sent", step=0.2)


def test_the_meter_equals_the_ledger_across_re_reads_sends_restarts_and_a_day_boundary(
    engine: Engine, settings: Settings
) -> None:
    settings = fast_settings(settings)
    with emulator(mentions_window=1_000_000) as emu:
        account_id = connect(engine, settings, emu)
        shift = [0.0]  # both clocks (the worker's, the ledger's) move to the next UTC day together

        def clock() -> float:
            return time.time() + shift[0]

        emu.state.billing.clock = clock
        worker = _worker(engine, settings, clock, "first")

        # day 1: traffic, sweeps, many DM polls that return the same events, a search backfill
        traffic(emu, 300, seed=5)
        _sweep_until_stored(engine, worker, emu)
        for _ in range(5):
            worker.tick(all_enabled=True)
        _forget_search_cursor(engine)
        worker.tick(all_enabled=True)
        _send_all(worker, _answer(engine, emu, account_id, 4, "day1"))
        traffic(emu, 150, seed=6)
        _sweep_until_stored(engine, worker, emu)

        day1 = datetime.fromtimestamp(clock(), UTC).date()
        day1_meter, _ = _meter(engine)
        day1_ledger = _ledger(emu)["total_usd"]
        assert abs(day1_meter - day1_ledger) <= 0.01 * day1_ledger, (day1_meter, _ledger(emu))

        # day 2 (UTC midnight passed), after a restart: re-reads of yesterday's posts are billed again
        midnight = datetime.combine(day1 + timedelta(days=1), datetime.min.time(), UTC).timestamp()
        shift[0] = midnight - time.time() + 60
        worker = _worker(engine, settings, clock, "after-restart")
        _forget_search_cursor(engine)
        traffic(emu, 150, seed=7)
        _sweep_until_stored(engine, worker, emu)
        for _ in range(3):
            worker.tick(all_enabled=True)
        _send_all(worker, _answer(engine, emu, account_id, 2, "day2"))

        ledger = _ledger(emu)
        total, by_endpoint = _meter(engine)
        assert ledger["total_usd"] > day1_ledger
        assert abs(total - ledger["total_usd"]) <= 0.01 * ledger["total_usd"], (total, ledger, by_endpoint)
        kinds = ledger["by_kind"]
        # DMs polled many times a day are billed once per DM and day, not once per poll
        dms = sum(1 for d in truth(emu)["dms"])
        dm_items, dm_billed, _ = by_endpoint["dm_events"]
        assert kinds["dm_event_read"]["count"] <= 2 * dms < dm_items  # at most once a day each
        assert dm_billed < dm_items
        # writes: replies X accepted are summoned replies ($0.010), with a link $0.20; every DM sent
        # (the agents' and the opt-out acknowledgements) $0.015
        assert kinds["summoned_reply"]["count"] == 4 and kinds["post_create_url"]["count"] == 2
        assert by_endpoint["post_create"][1] == 6
        assert by_endpoint["dm_create"][1] == kinds["dm_create"]["count"] >= 6
        # the meter keeps yesterday's and today's billed resources only (older days are pruned)
        with engine.connect() as conn:
            days = set(conn.execute(sa.select(billed_resources.c.day).distinct()).scalars())
        assert days == {day1.isoformat(), (day1 + timedelta(days=1)).isoformat()}
        summary = costs.spend_summary(engine, account_id, today=day1 + timedelta(days=1))
        assert summary.month_usd >= summary.today_usd > 0
        assert set(summary.by_source) >= {"mentions", "search", "dms", "sends"}


def test_events_and_reconciliation_polls_of_the_same_posts_cost_the_same_by_both(
    engine: Engine, settings: Settings
) -> None:
    """Real time with the slower mentions and DM polls kept: a post often comes both ways, and
    whichever X served first that day is the charge that stands (an event processed after a poll
    that read the same post still takes the charge, as X billed it first)."""
    with emulator(mentions_window=1_000_000) as emu:
        settings = fast_settings(settings).model_copy(
            update={"x_app_bearer_token": emu.app_bearer, "realtime_poll_slowdown": 2.0}
        )
        connect(engine, settings, emu)
        stop = threading.Event()
        worker = Worker(
            engine,
            settings,
            stop=stop,
            options=WorkerOptions(
                idle_sleep_max_s=0.1,
                failure_backoff_base_s=0.05,
                failure_backoff_cap_s=0.5,
                connector_kwargs={"backoff_base_s": 0.02, "backoff_cap_s": 0.2},
                realtime=RealtimeOptions(supervise_every_s=0.1, reconnect_base_s=0.05, reconnect_cap_s=0.5),
            ),
        )
        thread = threading.Thread(target=worker.run, daemon=True)
        thread.start()
        try:
            wait_until(lambda: emu.state.stream_open >= 1, 30, "the activity stream to open")
            for seed in (51, 52, 53):
                traffic(emu, 100, seed=seed)
                time.sleep(0.5)
            want = set(expected_inbound(truth(emu)))
            wait_until(lambda: want <= _inbound(engine), 90, f"{len(want)} messages stored")
            time.sleep(1.0)  # more polls and keep-alives: nothing more to bill
        finally:
            stop.set()
            thread.join(timeout=30)
        ledger = _ledger(emu)
    total, by_endpoint = _meter(engine)
    kinds = ledger["by_kind"]
    assert kinds["event_post"]["count"] > 0 and kinds["owned_read"]["count"] > 0  # both paths were used
    assert abs(total - ledger["total_usd"]) <= 0.01 * ledger["total_usd"], (total, ledger, by_endpoint)
    assert by_endpoint["event_post"][1] == kinds["event_post"]["count"]
