"""In-process: 10,000 emulator messages stored exactly once in the right
conversations, and the same with 20% faulty responses. Both backends."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine

from flockdesk.jobs.worker import Worker, WorkerOptions
from flockdesk.settings import Settings

from .harness import (
    assert_exactly_once,
    connect,
    dead_letter_reasons,
    emulator,
    expected_inbound,
    fast_settings,
    faults,
    inbound_count,
    traffic,
    truth,
    wait_until,
)

TOTAL = 10_000
ROUNDS = 4


def _run(engine: Engine, settings: Settings, *, fault_rate: float) -> dict[str, int]:
    settings = fast_settings(settings)
    with emulator() as emu:
        connect(engine, settings, emu)
        if fault_rate:
            faults(emu, fault_rate)
        stop = threading.Event()
        worker = Worker(
            engine,
            settings,
            stop=stop,
            ingestor=None,
            options=WorkerOptions(
                idle_sleep_max_s=0.1,
                failure_backoff_base_s=0.05,
                failure_backoff_cap_s=0.5,
                connector_kwargs={"backoff_base_s": 0.02, "backoff_cap_s": 0.2},
            ),
        )
        thread = threading.Thread(target=worker.run, daemon=True)
        thread.start()
        try:
            for i in range(ROUNDS):  # traffic arrives while the worker polls
                traffic(emu, TOTAL // ROUNDS, seed=100 + i)
            want = len(expected_inbound(truth(emu)))
            wait_until(lambda: inbound_count(engine) >= want, 90, f"{want} messages stored")
            assert thread.is_alive(), "the worker died"
        finally:
            stop.set()
            thread.join(timeout=30)
        if not fault_rate:  # paced by the headers, the worker never ran into X's limits (DMs: 15/window)
            assert worker.pacer.throttled == {}
        injected: dict[str, int] = faults(emu, 0)["injected"]
        assert_exactly_once(engine, truth(emu))
    return injected


@pytest.mark.slow
def test_ten_thousand_messages_are_stored_once_in_the_right_conversation(
    engine: Engine, settings: Settings
) -> None:
    _run(engine, settings, fault_rate=0.0)
    assert dead_letter_reasons(engine) == []


@pytest.mark.slow
def test_twenty_percent_faulty_responses_still_store_everything_once(
    engine: Engine, settings: Settings
) -> None:
    injected = _run(engine, settings, fault_rate=0.2)
    kinds = ("rate_limit", "server_error", "timeout", "malformed", "duplicate_page", "out_of_order")
    assert all(injected.get(k, 0) > 0 for k in kinds), injected
    reasons = dead_letter_reasons(engine)
    assert reasons, "the malformed responses the emulator injected left no dead letter"
    assert all(r.startswith("malformed response") for r in reasons)
