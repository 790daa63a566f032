"""The worker: polls every enabled source on its schedule (`sources.next_poll_at`) and sends the outbox.

It never dies of a platform problem: rate limits defer a source until the reset, 5xx and timeouts are
retried by the connector and then back off per source, malformed bodies become dead letters, and a
bug in one source's sweep is logged with its stack trace while the loop goes on. SIGTERM stops it
between two pages; SIGKILL loses nothing because every page is committed with its cursor and every
send is claimed before the platform is called (services/replies/outbox.py).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.connectors.base import CallRecord, Connector, RateLimited
from flockdesk.domain.utc import as_utc
from flockdesk.jobs.pacing import Pacer, save_rate_state
from flockdesk.jobs.sweep import Sweeper, SweepOutcome
from flockdesk.services.accounts import connected as accounts_svc
from flockdesk.services.accounts import costs
from flockdesk.services.replies import outbox
from flockdesk.settings import Settings
from flockdesk.store.schema import accounts, sources

log = logging.getLogger(__name__)


@dataclass
class WorkerOptions:
    outbox_grace_s: float | None = None  # None: Settings.outbox_grace_s
    idle_sleep_max_s: float = 1.0  # how often the outbox is checked when nothing else is due
    max_pages_per_sweep: int = 20  # then other sources get a turn; the cursor keeps our place
    inline_wait_max_s: float = 2.0
    failure_backoff_base_s: float = 1.0
    failure_backoff_cap_s: float = 300.0
    budget_paused_recheck_s: float = 3600.0
    connector_kwargs: dict[str, Any] = field(default_factory=dict)  # e.g. backoff_base_s for tests


@dataclass
class TickReport:
    swept: dict[int, SweepOutcome] = field(default_factory=dict)
    sent: outbox.SendReport | None = None


class Worker:
    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        options: WorkerOptions | None = None,
        ingestor: Any = None,
        stop: threading.Event | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if ingestor is None:
            from flockdesk.services.ingest.ingestor import Ingestor, default_triage

            ingestor = Ingestor(engine, triage=default_triage())
        self.engine = engine
        self.settings = settings
        self.options = options or WorkerOptions()
        grace = self.options.outbox_grace_s
        self.outbox_grace_s = settings.outbox_grace_s if grace is None else grace
        self.stop = stop or threading.Event()
        self.clock = clock
        self.pacer = Pacer(clock=clock)
        self.sweeper = Sweeper(
            engine,
            ingestor,
            self.pacer,
            stop=self.stop,
            max_pages=self.options.max_pages_per_sweep,
            inline_wait_max_s=self.options.inline_wait_max_s,
            clock=clock,
        )
        self._connectors: dict[int, tuple[Connector, float | None]] = {}
        self._failures: dict[int, int] = {}

    # ---- connectors -------------------------------------------------------------------------

    def _observer(self, account_id: int) -> Callable[[CallRecord], None]:
        def on_call(rec: CallRecord) -> None:
            self.pacer.note(account_id, rec.endpoint, rec.rate, status=rec.status, pacing=rec.pacing)
            try:
                costs.record_call(self.engine, account_id, rec.endpoint, rec.items, has_url=rec.has_url)
                if rec.rate is not None:
                    save_rate_state(self.engine, account_id, rec.endpoint, rec.rate)
            except Exception:  # accounting must never stop ingest
                log.exception("could not record API usage for account %s", account_id)

        return on_call

    def connector(self, account_id: int) -> Connector:
        cached = self._connectors.get(account_id)
        if cached is not None and (
            cached[1] is None or cached[1] - accounts_svc.REFRESH_MARGIN_S > self.clock()
        ):
            return cached[0]
        creds = accounts_svc.fresh_credentials(self.engine, self.settings, account_id)
        conn = accounts_svc.connector_for_account(
            self.engine,
            self.settings,
            account_id,
            on_call=self._observer(account_id),
            **self.options.connector_kwargs,
        )
        self._connectors[account_id] = (conn, creds.expires_at)
        return conn

    # ---- one pass ---------------------------------------------------------------------------

    def _due_sources(self, *, all_enabled: bool) -> list[Any]:
        now = datetime.now(UTC)
        q = (
            sa.select(sources, accounts.c.external_user_id)
            .join(accounts, accounts.c.id == sources.c.account_id)
            .where(sources.c.enabled.is_(True), accounts.c.active.is_(True))
        )
        if not all_enabled:
            q = q.where(sa.or_(sources.c.next_poll_at.is_(None), sources.c.next_poll_at <= now))
        with self.engine.connect() as conn:
            return list(conn.execute(q.order_by(sources.c.next_poll_at, sources.c.id)).mappings())

    def _schedule(self, source: Any, outcome: SweepOutcome, multiplier: float | None) -> None:
        now = self.clock()
        sid = int(source["id"])
        interval = float(source["poll_interval_s"])
        if outcome.state == "done":
            self._failures.pop(sid, None)
            due = (
                now + interval * multiplier
                if multiplier is not None
                else now + self.options.budget_paused_recheck_s
            )
        elif outcome.state in ("partial", "stopped"):
            due = now
        elif outcome.state == "deferred":
            due = outcome.retry_at or now + interval
        else:  # failed
            n = self._failures.get(sid, 0)
            self._failures[sid] = n + 1
            base, cap = self.options.failure_backoff_base_s, self.options.failure_backoff_cap_s
            due = now + min(cap, base * (2**n))
        with self.engine.begin() as conn:
            conn.execute(
                sources.update()
                .where(sources.c.id == sid)
                .values(
                    next_poll_at=datetime.fromtimestamp(due, UTC),
                    last_polled_at=datetime.fromtimestamp(now, UTC),
                    last_error=outcome.error,
                )
            )

    def poll_source(self, source: Any, estimate: costs.MonthEstimate) -> SweepOutcome:
        multiplier = costs.polling_multiplier(estimate, source["kind"])
        if multiplier is None:
            outcome = SweepOutcome("done", error="paused: the month's API budget is spent")
            self._schedule(source, outcome, None)
            return outcome
        started = time.monotonic()
        try:
            connector = self.connector(int(source["account_id"]))
            outcome = self.sweeper.sweep(source, source["external_user_id"], connector)
        except Exception as exc:  # a bug or an unreadable account: log it, back off, go on
            log.exception("source %s (%s): sweep failed", source["id"], source["kind"])
            outcome = SweepOutcome("failed", error=f"internal error: {type(exc).__name__}: {exc}")
        log.debug(
            "source %s (%s): %s, %d pages, %d new, %.2fs",
            source["id"],
            source["kind"],
            outcome.state,
            outcome.pages,
            outcome.items,
            time.monotonic() - started,
        )
        if outcome.error:
            log.warning("source %s (%s): %s: %s", source["id"], source["kind"], outcome.state, outcome.error)
        self._schedule(source, outcome, multiplier)
        return outcome

    def tick(self, *, all_enabled: bool = False) -> TickReport:
        report = TickReport()
        estimate = costs.estimate_month(self.engine, self.settings.monthly_budget_usd)
        due = self._due_sources(all_enabled=all_enabled)
        log.debug("tick: %d sources due", len(due))
        for source in due:
            if self.stop.is_set():
                return report
            report.swept[int(source["id"])] = self.poll_source(source, estimate)
        if not self.stop.is_set():
            report.sent = self.send_outbox()
        return report

    def send_outbox(self) -> outbox.SendReport:
        def connector_for(account_id: int) -> Connector:
            wait = self.pacer.wait_s(account_id, "post_create")
            if wait > 0:
                raise RateLimited("post_create", self.clock() + wait)
            return self.connector(account_id)

        rep = outbox.send_pending(
            self.engine, connector_for, grace_s=self.outbox_grace_s, should_stop=self.stop.is_set
        )
        for account_id, reset in rep.blocked_accounts.items():
            if reset is not None:
                self.pacer.blocked(account_id, "post_create", reset)
        return rep

    def _next_due_in(self) -> float:
        with self.engine.connect() as conn:
            nxt = conn.execute(
                sa.select(sa.func.min(sources.c.next_poll_at)).where(sources.c.enabled.is_(True))
            ).scalar()
        if nxt is None:
            return self.options.idle_sleep_max_s
        return max(
            0.0, min(self.options.idle_sleep_max_s, (as_utc(nxt) - datetime.now(UTC)) / timedelta(seconds=1))
        )

    # ---- the loop ---------------------------------------------------------------------------

    def run(self, *, once: bool = False) -> None:
        """Poll and send until `stop` is set (or one full pass with once=True)."""
        log.info("worker started")
        failures = 0
        while not self.stop.is_set():
            try:
                self.tick(all_enabled=once)
                failures = 0
            except Exception:
                failures += 1
                log.exception("worker pass failed; going on")
                self.stop.wait(min(30.0, 0.5 * 2 ** min(failures, 6)))
                continue
            if once:
                break
            try:
                pause = self._next_due_in()
            except Exception:
                log.exception("cannot read the schedule; going on")
                pause = self.options.idle_sleep_max_s
            self.stop.wait(max(pause, 0.02))
        for conn, _ in self._connectors.values():
            conn.close()
        log.info("worker stopped")
