"""The worker's periodic jobs: each registered once, by name, with its interval.

The worker (jobs/worker.py) runs every job of its registry; several workers share one schedule in the
store, so each job runs once per interval across all of them (services/schedule.py). Source polls are
not listed here: each source is its own lease, due per its own `poll_interval_s`.

A feature adds a job with one line in `default_registry()` (or `registry.add(...)` on its own
registry in tests). A job takes the running worker (`JobContext`) and returns what it did, for logs
and tests; an exception is logged with its stack trace and the job runs again at its next time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import Engine

from flockdesk.connectors.base import Connector
from flockdesk.services.conversations import actions as conversations
from flockdesk.services.ingest.ingestor import Ingestor, default_triage
from flockdesk.services.monitoring import alerts
from flockdesk.services.realtime import webhooks
from flockdesk.services.replies import native
from flockdesk.services.team import presence
from flockdesk.settings import Settings


class JobContext(Protocol):
    """What a job may use of the worker that runs it."""

    engine: Engine
    settings: Settings

    def now(self) -> datetime: ...

    def send_outbox(self) -> object: ...

    def connector(self, account_id: int) -> Connector: ...


@dataclass(frozen=True)
class Job:
    name: str
    every_s: float
    run: Callable[[JobContext], object]
    about: str = ""


class Registry:
    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}

    def add(self, name: str, every_s: float, run: Callable[[JobContext], object], about: str = "") -> Job:
        if name in self._jobs:
            raise ValueError(f"a job named {name!r} is already registered; pick another name")
        if every_s <= 0:
            raise ValueError(f"job {name!r}: the interval must be a positive number of seconds")
        job = Job(name, float(every_s), run, about)
        self._jobs[name] = job
        return job

    def get(self, name: str) -> Job:
        return self._jobs[name]

    def names(self) -> list[str]:
        return sorted(self._jobs)

    def __iter__(self) -> Iterator[Job]:
        return iter(self._jobs.values())

    def __len__(self) -> int:
        return len(self._jobs)


def _send_outbox(ctx: JobContext) -> object:
    return ctx.send_outbox()


def _wake_due(ctx: JobContext) -> int:
    return conversations.wake_due(ctx.engine, ctx.now())


def _spike_check(ctx: JobContext) -> bool:
    return alerts.check_spike(ctx.engine, ctx.now(), settings=ctx.settings) is not None


def _alert_delivery(ctx: JobContext) -> int:
    return alerts.deliver_pending(ctx.engine, ctx.settings)


def _native_match(ctx: JobContext) -> int:
    return native.match_pending(ctx.engine, ctx.connector, now=ctx.now())


def _presence_purge(ctx: JobContext) -> int:
    return presence.purge_expired(ctx.engine, ctx.now())


def _webhook_events(ctx: JobContext) -> int:
    if not ctx.settings.x_consumer_secret:
        return 0
    return webhooks.drain(ctx.engine, Ingestor(ctx.engine, triage=default_triage()), now=ctx.now())


def _webhook_purge(ctx: JobContext) -> int:
    return webhooks.purge(ctx.engine, ctx.settings, now=ctx.now())


def default_registry() -> Registry:
    """Every periodic job Flockdesk runs."""
    reg = Registry()
    reg.add("outbox.send", 1.0, _send_outbox, "send queued replies and DMs")
    reg.add(
        "replies.native_match", 60.0, _native_match, "attach replies agents posted on the platform itself"
    )
    reg.add("conversations.wake_due", 15.0, _wake_due, "reopen snoozes and follow-ups whose time has come")
    reg.add("monitoring.spike_check", 60.0, _spike_check, "alert on a spike of negative or urgent messages")
    reg.add("monitoring.alert_delivery", 60.0, _alert_delivery, "retry alert webhooks not yet delivered")
    reg.add("team.presence_purge", 60.0, _presence_purge, "remove expired viewers and typists")
    reg.add("realtime.webhook_events", 1.0, _webhook_events, "store events delivered to /webhooks/x")
    reg.add(
        "realtime.webhook_purge", 3600.0, _webhook_purge, "forget webhook event ids past the replay window"
    )
    return reg
