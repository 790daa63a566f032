"""Real-time events through the X Activity API's persistent stream, against the emulator, both stores:
events become stored messages; a cut stream reconnects with backfill and loses and doubles nothing;
stream and polling together store each message once; two workers run one stream consumer."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.connectors.registry import realtime
from flockdesk.emulator.server import EmulatorServer
from flockdesk.jobs.stream import RealtimeOptions
from flockdesk.jobs.worker import Worker, WorkerOptions
from flockdesk.services.accounts.connected import connector_for_account
from flockdesk.services.accounts.sources import list_sources, set_enabled
from flockdesk.services.monitoring.status import snapshot
from flockdesk.services.realtime.state import realtime_status
from flockdesk.services.realtime.subscriptions import ensure_subscriptions
from flockdesk.settings import Settings
from flockdesk.store.db import make_engine
from flockdesk.store.schema import follow_events, messages

from .harness import (
    assert_exactly_once,
    connect,
    emulator,
    fast_settings,
    faults,
    inbound_count,
    traffic,
    truth,
    wait_until,
)

INBOUND_EVENTS = ("post.mention.create", "post.reply.create", "post.quote.create", "dm.received")


def stream_settings(settings: Settings, emu: EmulatorServer) -> Settings:
    return fast_settings(settings).model_copy(
        update={"x_app_bearer_token": emu.app_bearer, "realtime_live_window_s": 30.0}
    )


def options() -> WorkerOptions:
    return WorkerOptions(
        idle_sleep_max_s=0.1,
        failure_backoff_base_s=0.05,
        failure_backoff_cap_s=0.5,
        connector_kwargs={"backoff_base_s": 0.02, "backoff_cap_s": 0.2},
        realtime=RealtimeOptions(supervise_every_s=0.1, reconnect_base_s=0.05, reconnect_cap_s=0.5),
    )


@contextmanager
def running(engine: Engine, settings: Settings, name: str = "w") -> Iterator[Worker]:
    stop = threading.Event()
    worker = Worker(engine, settings, stop=stop, options=options(), owner=name)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        yield worker
    finally:
        stop.set()
        thread.join(timeout=30)


def event_ids(emu: EmulatorServer) -> set[str]:
    """Ids of the inbound messages the emulator's activity log holds (what the stream delivers)."""
    out: set[str] = set()
    for ev in list(emu.state.activity.events):
        if ev.event_type in INBOUND_EVENTS[:3]:
            out.add(str(ev.payload["id"]))
        elif ev.event_type == "dm.received":
            out.add(str(ev.payload["direct_message_events"][0]["id"]))
    return out


def stored_inbound(engine: Engine) -> Counter[str]:
    with engine.connect() as conn:
        ids = conn.execute(sa.select(messages.c.external_id).where(messages.c.direction == "in")).scalars()
        return Counter(ids)


def polling_off(engine: Engine) -> None:
    for s in list_sources(engine):
        set_enabled(engine, s.id, False)


def wait_subscribed(emu: EmulatorServer) -> None:
    wait_until(lambda: len(emu.state.subscriptions) >= 11, 20, "the account's subscriptions")


def wait_stream_open(emu: EmulatorServer) -> None:
    wait_until(lambda: emu.state.stream_open >= 1, 20, "the activity stream to open")


def test_stream_events_become_stored_messages(engine: Engine, settings: Settings) -> None:
    with emulator() as emu:
        settings = stream_settings(settings, emu)
        account_id = connect(engine, settings, emu)
        polling_off(engine)  # only the stream can store anything
        with running(engine, settings):
            wait_subscribed(emu)
            wait_stream_open(emu)
            report = traffic(emu, 300, seed=11)
            want = event_ids(emu)
            assert want
            wait_until(lambda: set(stored_inbound(engine)) >= want, 60, f"{len(want)} event messages")
            status = realtime_status(engine, account_id, live_window_s=30.0)
            assert status.state == "live" and status.delivery == "stream"
            assert status.lag_samples > 0 and status.lag_p50_ms is not None
            shown = snapshot(engine, 100.0, live_window_s=30.0)["realtime"]  # what `flockdesk status` prints
            assert [(r["account_id"], r["state"]) for r in shown] == [(account_id, "live")]
        got = stored_inbound(engine)
        assert set(got) == want
        assert max(got.values()) == 1
        with engine.connect() as conn:
            follows = conn.execute(sa.select(sa.func.count()).select_from(follow_events)).scalar_one()
        assert follows == report["follows"] + report["unfollows"]
        assert realtime_status(engine, account_id, live_window_s=30.0).state == "polling"  # worker stopped


def test_a_cut_stream_reconnects_with_backfill_and_loses_nothing(engine: Engine, settings: Settings) -> None:
    with emulator() as emu:
        settings = stream_settings(settings, emu)
        connect(engine, settings, emu)
        polling_off(engine)
        faults(emu, 0.0, stream_cut_after=15, stream_drop_rate=0.05)
        with running(engine, settings) as worker:
            wait_subscribed(emu)
            wait_stream_open(emu)
            for seed in range(21, 29):  # in rounds, so that live events (which the cuts count) keep coming
                traffic(emu, 60, seed=seed)
                wait_until(lambda: set(stored_inbound(engine)) >= event_ids(emu), 60, "the round's events")
            want = event_ids(emu)
            assert worker.realtime is not None
            consumers = list(worker.realtime.consumers.values())
            assert consumers and consumers[0][0].connections >= 4  # it was cut and came back
        got = stored_inbound(engine)
        assert set(got) == want and max(got.values()) == 1
        log = httpx.get(f"{emu.base_url}/_emulator/requests", timeout=10).json()["requests"]
        connects = [r for r in log if r["endpoint"] == "activity_stream"]
        assert any("backfill_minutes" in r["params"] for r in connects[1:])  # resumed with backfill


def test_stream_and_polling_together_store_each_message_once(engine: Engine, settings: Settings) -> None:
    with emulator() as emu:
        settings = stream_settings(settings, emu)
        connect(engine, settings, emu)
        faults(emu, 0.1, stream_drop_rate=0.05)
        with running(engine, settings):
            wait_subscribed(emu)
            for seed in (31, 32):
                traffic(emu, 400, seed=seed)
            t = truth(emu)
            want = {p["id"] for p in t["posts"] if not p["from_org"] and p["kind"] != "retweet"} | {
                d["id"] for d in t["dms"] if not d["from_org"]
            }
            wait_until(lambda: inbound_count(engine) >= len(want), 90, f"{len(want)} messages")
        assert_exactly_once(engine, truth(emu))


def test_two_workers_run_one_stream_consumer(engine: Engine, settings: Settings) -> None:
    with emulator() as emu:
        settings = stream_settings(settings, emu).model_copy(update={"lease_ttl_s": 3.0})
        connect(engine, settings, emu)
        polling_off(engine)
        other = make_engine(settings)
        try:
            with running(engine, settings, "a") as a, running(other, settings, "b") as b:
                wait_subscribed(emu)
                wait_stream_open(emu)
                holders: list[Any] = []
                for _ in range(10):  # stays one for a while: neither takes the other's lease
                    threading.Event().wait(0.2)
                    assert emu.state.stream_open == 1
                for w in (a, b):
                    assert w.realtime is not None
                    holders += [c for c, t in w.realtime.consumers.values() if t.is_alive()]
                assert len(holders) == 1
                traffic(emu, 100, seed=41)
                want = event_ids(emu)
                wait_until(lambda: set(stored_inbound(engine)) >= want, 60, "event messages")
            assert max(stored_inbound(engine).values()) == 1
        finally:
            other.dispose()


def test_a_stopped_holder_hands_the_stream_over(engine: Engine, settings: Settings) -> None:
    with emulator() as emu:
        settings = stream_settings(settings, emu).model_copy(update={"lease_ttl_s": 3.0})
        connect(engine, settings, emu)
        polling_off(engine)
        other = make_engine(settings)
        try:
            with running(other, settings, "b") as b:
                with running(engine, settings, "a"):
                    wait_subscribed(emu)
                    wait_stream_open(emu)
                # whichever held it, the stream is open (again) after "a" stops
                wait_stream_open(emu)
                assert b.realtime is not None
                traffic(emu, 100, seed=51)
                want = event_ids(emu)
                wait_until(lambda: set(stored_inbound(engine)) >= want, 60, "event messages")
        finally:
            other.dispose()


def test_subscriptions_are_made_once_however_often_they_are_ensured(
    engine: Engine, settings: Settings
) -> None:
    with emulator() as emu:
        settings = stream_settings(settings, emu)
        account_id = connect(engine, settings, emu)
        rules = realtime("x")
        assert rules is not None
        conn = connector_for_account(engine, settings, account_id)
        try:
            first = ensure_subscriptions(engine, account_id, emu.state.org.id, conn, rules, mode="stream")
            again = ensure_subscriptions(engine, account_id, emu.state.org.id, conn, rules, mode="stream")
        finally:
            conn.close()
        assert len(first.created) == 11 and again.created == [] and len(again.existing) == 11
        assert len(emu.state.subscriptions) == 11
        assert realtime_status(engine, account_id).subscribed
