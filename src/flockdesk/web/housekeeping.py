"""Light periodic work the web process runs so a single-process install behaves: reopen due snoozes and
follow-ups, check for a spike of negative/urgent messages, retry alert webhooks. Every step is
idempotent (the worker may run them too); failures are logged and the loop goes on."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime

from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from flockdesk.settings import Settings

log = logging.getLogger(__name__)
WAKE_EVERY_S = 15.0
SPIKE_EVERY_S = 60.0


def run_once(
    engine: Engine, settings: Settings, *, spikes: bool = True, now: datetime | None = None
) -> dict[str, int]:
    """One pass; returns what it did (woken conversations, new alerts, delivered alerts)."""
    from flockdesk.services.conversations import actions as conv_svc
    from flockdesk.services.monitoring import alerts as alerts_svc

    done = {"woken": 0, "alerts": 0, "delivered": 0}
    at = now or datetime.now(UTC)
    try:
        done["woken"] = conv_svc.wake_due(engine, at)
    except Exception:
        log.exception("waking due snoozes failed; will retry")
    if spikes:
        try:
            done["alerts"] = 1 if alerts_svc.check_spike(engine, at, settings=settings) else 0
            done["delivered"] = alerts_svc.deliver_pending(engine, settings)
        except Exception:
            log.exception("spike check failed; will retry")
    return done


async def loop(engine: Engine, settings: Settings, stop: asyncio.Event) -> None:
    last_spike = 0.0
    while not stop.is_set():
        spikes = time.monotonic() - last_spike >= SPIKE_EVERY_S
        await run_in_threadpool(run_once, engine, settings, spikes=spikes)
        if spikes:
            last_spike = time.monotonic()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=WAKE_EVERY_S)
