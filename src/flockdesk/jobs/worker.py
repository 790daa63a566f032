"""The worker: runs the shared schedule. It polls each enabled source when it is due and runs every
periodic job of the registry (jobs/registry.py: the outbox, snooze wake-ups, spike checks, alert
retries ...), each under a lease, so that several workers on one store split the work and nothing
runs twice (services/schedule.py).

It never dies of a platform problem: rate limits defer a source until the reset, 5xx and timeouts are
retried by the connector and then back off per source, malformed bodies become dead letters, and a
bug in one source's sweep or in one job is logged with its stack trace while the loop goes on.
SIGTERM stops it between two pages and gives its leases back; SIGKILL loses nothing because every
page is committed with its cursor and every send is claimed before the platform is called
(services/replies/outbox.py), and its leases run out after `lease_ttl_s` for another worker.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from flockdesk.connectors import registry
from flockdesk.connectors.base import CallRecord, Connector, RateLimited
from flockdesk.jobs.pacing import Pacer
from flockdesk.jobs.registry import Registry, default_registry
from flockdesk.jobs.stream import RealtimeOptions, RealtimeSupervisor
from flockdesk.jobs.sweep import Sweeper, SweepOutcome
from flockdesk.services import schedule
from flockdesk.services.accounts import connected as accounts_svc
from flockdesk.services.accounts import costs
from flockdesk.services.ingest import xchat
from flockdesk.services.ingest.ingestor import Ingestor, default_triage
from flockdesk.services.monitoring.rate_limits import save_rate_state
from flockdesk.services.realtime import events as realtime_events
from flockdesk.services.realtime import state as realtime_state
from flockdesk.services.replies import outbox
from flockdesk.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class WorkerOptions:
    outbox_grace_s: float | None = None  # None: Settings.outbox_grace_s
    idle_sleep_max_s: float = 1.0  # the longest pause between two passes over the schedule
    max_pages_per_sweep: int = 20  # then other sources get a turn; the cursor keeps our place
    inline_wait_max_s: float = 2.0
    failure_backoff_base_s: float = 1.0
    failure_backoff_cap_s: float = 300.0
    budget_paused_recheck_s: float = 3600.0
    connector_kwargs: dict[str, Any] = field(default_factory=dict)  # e.g. backoff_base_s for tests
    job_every_s: dict[str, float] = field(default_factory=dict)  # job name -> interval, over the registry's
    realtime: RealtimeOptions | None = None  # None: defaults; real time runs when settings enable it


@dataclass
class TickReport:
    swept: dict[int, SweepOutcome] = field(default_factory=dict)
    jobs: dict[str, object] = field(default_factory=dict)  # job name -> what it returned (None: it failed)
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
        registry: Registry | None = None,
        owner: str | None = None,
    ) -> None:
        if ingestor is None:
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
        self.ingestor = ingestor
        self.registry = registry if registry is not None else default_registry()
        self.owner = owner or schedule.new_owner()  # names this worker's leases
        self.lease_ttl_s = settings.lease_ttl_s
        self._connectors: dict[int, tuple[Connector, float | None, str | None]] = {}
        self._failures: dict[int, int] = {}
        self._jobs_known = False
        self.ingestor = ingestor
        self.realtime: RealtimeSupervisor | None = None
        self._live: tuple[float, set[int]] = (float("-inf"), set())

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    # ---- connectors -------------------------------------------------------------------------

    def _observer(self, account_id: int) -> Callable[[CallRecord], None]:
        def on_call(rec: CallRecord) -> None:
            self.pacer.note(account_id, rec.endpoint, rec.rate, status=rec.status, pacing=rec.pacing)
            try:
                costs.record_call(
                    self.engine,
                    account_id,
                    rec.endpoint,
                    rec.items,
                    has_url=rec.has_url,
                    reply=rec.reply,
                    resources=rec.resources,
                    at=self.now(),
                )
                if rec.rate is not None:
                    save_rate_state(self.engine, account_id, rec.endpoint, rec.rate)
            except Exception:  # accounting must never stop ingest
                log.exception("could not record API usage for account %s", account_id)

        return on_call

    def connector(self, account_id: int) -> Connector:
        # an admin may change the account's API version while the worker runs: a new connector then
        version = accounts_svc.get_account(self.engine, account_id).api_version
        cached = self._connectors.get(account_id)
        if (
            cached is not None
            and cached[2] == version
            and (cached[1] is None or cached[1] - accounts_svc.REFRESH_MARGIN_S > self.clock())
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
        self._connectors[account_id] = (conn, creds.expires_at, version)
        return conn

    # ---- one pass ---------------------------------------------------------------------------

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
        if not schedule.finish_poll(
            self.engine,
            sid,
            self.owner,
            due_at=datetime.fromtimestamp(due, UTC),
            polled_at=datetime.fromtimestamp(now, UTC),
            error=outcome.error,
        ):
            log.warning("source %s: the lease ran out during the poll; another worker has it now", sid)

    def live_accounts(self) -> set[int]:
        """Accounts whose events arrive in real time now (read at most every 2 seconds)."""
        at, live = self._live
        if self.clock() - at >= 2.0:
            try:
                live = realtime_state.live_accounts(
                    self.engine, window_s=self.settings.realtime_live_window_s, now=self.now()
                )
            except Exception:  # status is advisory: poll at the normal interval
                log.exception("cannot read the real-time status")
                live = set()
            self._live = (self.clock(), live)
        return live

    def poll_source(self, source: Any, estimate: costs.MonthEstimate) -> SweepOutcome:
        multiplier = costs.polling_multiplier(estimate, source["kind"])
        if (
            multiplier is not None
            and source["kind"] in ("mentions", "dms")
            and int(source["account_id"]) in self.live_accounts()
        ):
            # events deliver these in real time; polling stays, slower, for backfill and reconciliation
            multiplier *= self.settings.realtime_poll_slowdown
        if multiplier is None:
            outcome = SweepOutcome("done", error="paused: the month's API budget is spent")
            self._schedule(source, outcome, None)
            return outcome
        started = time.monotonic()
        try:
            connector = self.connector(int(source["account_id"]))
            if source["kind"] == xchat.SOURCE_KIND:
                outcome = self._poll_chat(source, connector)
            else:
                if source["kind"] == "search" and source["query"]:
                    # the account's own mentions come the cheaper way (owned reads): not through search
                    query = costs.cheapest_search_query(
                        self.engine, int(source["account_id"]), str(source["query"]), now=self.now()
                    )
                    source = {**source, "query": query}
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

    def _poll_chat(self, source: Any, connector: Connector) -> SweepOutcome:
        got = xchat.poll(
            self.engine,
            self.ingestor,
            connector,
            account_id=int(source["account_id"]),
            source_id=int(source["id"]),
            should_stop=self.stop.is_set,
            inline_wait_max_s=self.options.inline_wait_max_s,
            sleep=self.stop.wait,
            clock=self.clock,
        )
        return SweepOutcome(
            got.state,
            pages=got.conversations,
            items=got.items,
            dead=got.dead,
            retry_at=got.retry_at,
            error=got.error,
        )

    def chat_events(self) -> xchat.ChatEvents:
        """The ChatEventSink for the real-time stream: chat events stored like the poll's."""
        return xchat.ChatEvents(self.engine, self.ingestor, self.connector)

    def tick(self, *, all_enabled: bool = False) -> TickReport:
        """One pass: poll every source that is due (every enabled one with `all_enabled`) and run every
        job that is due (all of them with `all_enabled`), skipping what other workers hold."""
        report = TickReport()
        estimate = costs.estimate_month(self.engine, self.settings.monthly_budget_usd)
        while not self.stop.is_set():
            source = schedule.claim_source(
                self.engine,
                self.owner,
                now=self.now(),
                ttl_s=self.lease_ttl_s,
                due_only=not all_enabled,
                exclude=report.swept.keys(),
            )
            if source is None:
                break
            report.swept[int(source["id"])] = self.poll_source(source, estimate)
        log.debug("tick: %d sources polled", len(report.swept))
        if not self.stop.is_set():
            self.run_jobs(report, force=all_enabled)
        return report

    def run_jobs(self, report: TickReport, *, force: bool = False) -> None:
        """Run each registered job that is due (every one with `force`) and no other worker holds."""
        names = self.registry.names()
        if not self._jobs_known:
            schedule.ensure_jobs(self.engine, names, now=self.now())
            self._jobs_known = True
        while not self.stop.is_set():
            name = schedule.claim_job(
                self.engine,
                self.owner,
                names,
                now=self.now(),
                ttl_s=self.lease_ttl_s,
                due_only=not force,
                exclude=report.jobs.keys(),
            )
            if name is None:
                return
            job = self.registry.get(name)
            started = self.now()
            error: str | None = None
            result: object = None
            try:
                result = job.run(self)
            except Exception as exc:  # a bug or an outage in one job: log it, the others go on
                log.exception("job %s failed; it runs again at its next time", name)
                error = f"{type(exc).__name__}: {exc}"
            report.jobs[name] = result
            if name == "outbox.send" and isinstance(result, outbox.SendReport):
                report.sent = result
            every = self.options.job_every_s.get(name, job.every_s)
            schedule.finish_job(
                self.engine,
                name,
                self.owner,
                next_run_at=started + timedelta(seconds=every),
                finished_at=self.now(),
                error=error,
            )

    def send_outbox(self) -> outbox.SendReport:
        def connector_for(account_id: int) -> Connector:
            wait = self.pacer.wait_s(account_id, "post_create")
            if wait > 0:
                raise RateLimited("post_create", self.clock() + wait)
            return self.connector(account_id)

        rep = outbox.send_pending(
            self.engine,
            connector_for,
            grace_s=self.outbox_grace_s,
            should_stop=self.stop.is_set,
            wait_s=self.pacer.wait_s,
        )
        for account_id, reset in rep.blocked_accounts.items():
            if reset is not None:
                self.pacer.blocked(account_id, "post_create", reset)
        return rep

    def _next_due_in(self) -> float:
        now = self.now()
        nxt = schedule.next_due(self.engine, self.registry.names(), now=now)
        if nxt is None:
            return self.options.idle_sleep_max_s
        return max(0.0, min(self.options.idle_sleep_max_s, (nxt - now) / timedelta(seconds=1)))

    def _heartbeat(self, done: threading.Event) -> None:
        """Renew this worker's leases every third of their TTL while it runs (a long sweep keeps its
        source); a killed worker stops renewing and its leases run out."""
        every = self.lease_ttl_s / 3
        while not done.wait(every):
            try:
                schedule.renew(self.engine, self.owner, now=self.now(), ttl_s=self.lease_ttl_s)
            except Exception:
                log.exception("could not renew the worker's leases; trying again")

    # ---- the loop ---------------------------------------------------------------------------

    def run(self, *, once: bool = False) -> None:
        """Run the schedule until `stop` is set (or one full pass with once=True), then give back
        every lease this worker holds."""
        log.info("worker %s started", self.owner)
        done = threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(done,), name="lease-heartbeat", daemon=True)
        beat.start()
        realtime_thread: threading.Thread | None = None
        if not once and RealtimeSupervisor.enabled(self.settings):
            sink = self.chat_events()
            for platform in registry.platforms():
                realtime_events.register_chat_sink(platform, sink)
            self.realtime = RealtimeSupervisor(
                self.engine,
                self.settings,
                owner=self.owner,
                stop=self.stop,
                ingestor=self.ingestor,
                options=self.options.realtime,
                connector_kwargs=self.options.connector_kwargs,
                clock=self.clock,
            )
            realtime_thread = threading.Thread(target=self.realtime.run, name="realtime", daemon=True)
            realtime_thread.start()
        try:
            self._loop(once)
        finally:
            if realtime_thread is not None:
                realtime_thread.join(timeout=15)
                for platform in registry.platforms():
                    realtime_events.register_chat_sink(platform, None)
            done.set()
            beat.join(timeout=10)
            try:
                schedule.release_all(self.engine, self.owner)
            except Exception:
                log.exception("could not give the leases back; they run out after %ss", self.lease_ttl_s)
            for conn, _expires, _version in self._connectors.values():
                conn.close()
        log.info("worker stopped")

    def _loop(self, once: bool) -> None:
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
