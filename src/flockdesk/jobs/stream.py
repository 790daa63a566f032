"""Real-time events in the worker: subscriptions for every connected account, and one persistent
stream consumer per platform and API base URL across all workers.

The supervisor (a thread of each worker) makes sure every active account is subscribed (at start,
then for each account connected since), and for each base URL tries to take the stream's named lease
(`realtime.stream:<platform>:<hash of the URL>` in `job_leases`): the worker that gets it runs the
consumer, its heartbeat renews the lease, and the others only keep trying, so with several workers
exactly one holds the stream; a killed holder's lease runs out after `lease_ttl_s` and another takes
over, a stopped one gives it back at once.

The consumer reads the stream in a reader thread (lines into a queue) and applies events in batches
(`services/realtime/events.py`): as soon as they arrive when idle, up to 500 at a time under load. It
reconnects with exponential backoff and jitter (never a hot loop, also after a clean close), resuming
with `backfill_minutes` covering the time since the last sign of life (X keeps 5 minutes); a longer gap
makes the accounts' mentions and DM sources due at once, so polling fills it. Repeated deliveries
are harmless: messages are unique per platform id, follows per event id.
"""

from __future__ import annotations

import hashlib
import logging
import math
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from flockdesk.connectors import registry
from flockdesk.connectors.backoff import backoff_s
from flockdesk.connectors.base import (
    ActivityStreamConnection,
    ActivitySubscriber,
    AuthError,
    ConnectorError,
    RateLimited,
    RealtimeRules,
)
from flockdesk.domain.realtime import ActivityEvent
from flockdesk.services import schedule
from flockdesk.services.accounts import connected as accounts_svc
from flockdesk.services.accounts import sources as sources_svc
from flockdesk.services.ingest.ingestor import Ingestor
from flockdesk.services.realtime import events as events_svc
from flockdesk.services.realtime import state, webhook_registration
from flockdesk.services.realtime.subscriptions import ensure_subscriptions
from flockdesk.settings import Settings

log = logging.getLogger(__name__)

MAX_BACKFILL_MIN = 5  # X replays at most 5 minutes
BATCH_MAX = 500


@dataclass
class RealtimeOptions:
    supervise_every_s: float = 2.0  # how often the supervisor looks for new accounts and free streams
    reconnect_base_s: float = 1.0  # backoff after a drop: base * 2^n with full jitter, capped
    reconnect_cap_s: float = 120.0
    subscribe_retry_s: float = 60.0  # after a failed subscription attempt
    heartbeat_write_s: float = 5.0  # how often a keep-alive is written to the store (it is cheap, not free)


def lease_name(platform: str, base_url: str) -> str:
    digest = hashlib.sha256(base_url.rstrip("/").encode()).hexdigest()[:16]
    return f"realtime.stream:{platform}:{digest}"


_END = object()  # the reader's "connection over" marker
_BEAT = object()  # a keep-alive line


class StreamConsumer:
    """One stream (platform + base URL) for as long as this worker holds its lease."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        rules: RealtimeRules,
        base_url: str,
        *,
        owner: str,
        stop: threading.Event,
        ingestor: Ingestor,
        options: RealtimeOptions,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.rules = rules
        self.base_url = base_url
        self.owner = owner
        self.stop = stop
        self.options = options
        self.clock = clock
        self.lease = lease_name(rules.name, base_url)
        self.router = events_svc.EventRouter(engine, ingestor, rules.name)
        self.connections = 0  # successful connects (for tests and logs)
        self.last_contact: float | None = None  # clock time of the last line (event or keep-alive)
        self._conn: ActivityStreamConnection | None = None
        self._accounts: list[int] = self._account_ids()
        seen = state.last_seen(engine, self._accounts)  # a restarted worker resumes where the stream was
        self.last_contact = seen.timestamp() if seen is not None else None

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def _account_ids(self) -> list[int]:
        return [
            a.id
            for a in state.realtime_accounts_list(self.engine)
            if a.platform == self.rules.name and a.base_url.rstrip("/") == self.base_url.rstrip("/")
        ]

    def _backfill_minutes(self) -> int:
        """Minutes to replay on connect: the time since the last sign of life, rounded up, at most X's
        five. Beyond five minutes polling fills the gap (the sources are made due at once)."""
        if self.last_contact is None:
            return 0
        gap_s = self.clock() - self.last_contact
        if gap_s > MAX_BACKFILL_MIN * 60:
            self._poll_now("the stream was away longer than its 5-minute backfill")
            return MAX_BACKFILL_MIN
        return min(MAX_BACKFILL_MIN, max(1, math.ceil(gap_s / 60)))

    def _poll_now(self, why: str) -> None:
        for account_id in self._accounts:
            try:
                sources_svc.make_due(self.engine, account_id, kinds=("mentions", "dms"), now=self.now())
            except Exception:
                log.exception("could not make account %s's sources due (%s)", account_id, why)

    def _holds(self) -> bool:
        try:
            return schedule.still_holds(self.engine, self.lease, self.owner, now=self.now())
        except Exception:
            log.exception("cannot read the stream lease; assuming it is still ours until the next check")
            return True

    def close(self) -> None:
        conn = self._conn
        if conn is not None:
            conn.close()

    def run(self) -> None:
        """Consume until `stop` is set or the lease is lost; a bug or a store outage is logged and the
        stream reconnects after a backoff."""
        failures = 0
        while not self.stop.is_set():
            try:
                self._run()
                return
            except Exception:
                failures += 1
                log.exception("activity stream consumer failed; starting again")
                self.close()
                self.stop.wait(
                    backoff_s(failures, self.options.reconnect_base_s, self.options.reconnect_cap_s)
                )

    def _run(self) -> None:
        attempt = 0
        bearer = self.settings.x_app_bearer_token or ""
        while not self.stop.is_set() and self._holds():
            self._accounts = self._account_ids()
            delay: float | None = None
            try:
                conn = self.rules.open_stream(
                    self.base_url,
                    bearer,
                    backfill_minutes=self._backfill_minutes(),
                    connect_timeout_s=self.settings.http_timeout_s,
                    stall_timeout_s=self.settings.realtime_stall_timeout_s,
                )
            except RateLimited as exc:
                error = exc.detail
                if exc.reset_at is not None:
                    delay = max(0.0, exc.reset_at - self.clock()) + backoff_s(
                        0, self.options.reconnect_base_s, 5.0
                    )
            except AuthError as exc:
                error = f"{exc.detail} (check FLOCKDESK_X_APP_BEARER_TOKEN)"
                attempt = max(attempt, 5)  # a wrong token does not fix itself quickly
            except ConnectorError as exc:
                error = exc.detail
            else:
                self._conn = conn
                self.connections += 1
                state.mark_connected(self.engine, self._accounts, "stream", connected=True, now=self.now())
                log.info("activity stream connected (%s, %d accounts)", self.base_url, len(self._accounts))
                delivered, error = self._consume(conn)
                conn.close()
                self._conn = None
                if delivered:
                    attempt = 0
            state.mark_connected(
                self.engine, self._accounts, "stream", connected=False, error=error, now=self.now()
            )
            if self.stop.is_set():
                break
            if delay is None:
                delay = backoff_s(attempt, self.options.reconnect_base_s, self.options.reconnect_cap_s)
            attempt += 1
            log.warning("activity stream (%s): %s; reconnecting in %.1fs", self.base_url, error, delay)
            self.stop.wait(delay)

    def _consume(self, conn: ActivityStreamConnection) -> tuple[int, str]:
        """Read until the connection ends; returns (events applied, why it ended)."""
        q: queue.Queue[Any] = queue.Queue(maxsize=10_000)
        reader = threading.Thread(
            target=self._read, args=(conn, q), name="activity-stream-reader", daemon=True
        )
        reader.start()
        delivered = 0
        last_beat_write = 0.0
        check_every = max(0.2, self.settings.lease_ttl_s / 3)
        next_check = time.monotonic() + check_every
        why = "stopped"
        try:
            while not self.stop.is_set():
                if time.monotonic() >= next_check:
                    next_check = time.monotonic() + check_every
                    if not self._holds():
                        why = "another worker holds the stream now"
                        break
                try:
                    first = q.get(timeout=0.25)
                except queue.Empty:
                    continue
                batch: list[tuple[ActivityEvent, datetime]] = []
                beat = False
                ended: str | None = None
                for entry in self._drain(first, q):
                    if entry is _BEAT:
                        beat = True
                    elif isinstance(entry, tuple) and entry and entry[0] is _END:
                        ended = entry[1]
                    else:
                        batch.append(entry)
                if batch:
                    self._apply(batch)
                    delivered += len(batch)
                elif beat and time.monotonic() - last_beat_write >= self.options.heartbeat_write_s:
                    state.record_heartbeat(self.engine, self._accounts, now=self.now())
                    last_beat_write = time.monotonic()
                if ended is not None:
                    why = ended
                    break
        finally:
            conn.close()
            reader.join(timeout=5)
        return delivered, why

    @staticmethod
    def _drain(first: Any, q: queue.Queue[Any]) -> list[Any]:
        out = [first]
        while len(out) < BATCH_MAX:
            try:
                out.append(q.get_nowait())
            except queue.Empty:
                break
        return out

    def _apply(self, batch: list[tuple[ActivityEvent, datetime]]) -> None:
        try:
            self.router.apply(batch)
        except Exception:
            # the store is down or a bug: the events are lost to this connection, so resume with
            # backfill (X replays them; storing is idempotent) after the reconnect backoff
            log.exception("could not store %d activity events; reconnecting with backfill", len(batch))
            self.last_contact = min(self.last_contact or self.clock(), batch[0][1].timestamp())
            self.close()

    def _read(self, conn: ActivityStreamConnection, q: queue.Queue[Any]) -> None:
        """The reader thread: every line into the queue, then the end marker with the reason."""
        why = "the platform closed the stream"
        try:
            for line in conn.lines():
                self.last_contact = self.clock()
                if not line:
                    q.put(_BEAT)
                    continue
                event = self.rules.parse_line(line)
                if event is not None:
                    q.put((event, self.now()))
        except ConnectorError as exc:
            why = exc.detail
        except Exception as exc:  # a closed socket on stop, or a bug: reconnect either way
            why = f"{type(exc).__name__}: {exc}"
        q.put((_END, why))


class RealtimeSupervisor:
    """The worker's real-time thread: subscriptions, and the stream consumers this worker holds."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        owner: str,
        stop: threading.Event,
        ingestor: Ingestor,
        options: RealtimeOptions | None = None,
        connector_kwargs: dict[str, Any] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.owner = owner
        self.stop = stop
        self.ingestor = ingestor
        self.options = options or RealtimeOptions()
        self.connector_kwargs = connector_kwargs or {}
        self.clock = clock
        self.consumers: dict[str, tuple[StreamConsumer, threading.Thread]] = {}
        self._checked: dict[int, float] = {}  # account id -> when its subscriptions were last checked
        # (platform, base URL) -> (the registered webhook's id or None, when registration was last tried)
        self._webhooks: dict[tuple[str, str], tuple[str | None, float]] = {}

    @staticmethod
    def enabled(settings: Settings) -> bool:
        return bool(settings.x_app_bearer_token)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def run(self) -> None:
        log.info("real-time events on (%s)", "webhook" if self.settings.x_webhook_url else "stream")
        try:
            while not self.stop.is_set():
                try:
                    self.step()
                except Exception:
                    log.exception("real-time supervisor pass failed; going on")
                self.stop.wait(self.options.supervise_every_s)
        finally:
            self.shutdown()

    def step(self) -> None:
        accounts = state.realtime_accounts_list(self.engine)
        targets = sorted({(a.platform, a.base_url.rstrip("/")) for a in accounts})
        if self.settings.x_webhook_url:  # delivered to /webhooks/x: no stream
            for platform, base_url in targets:
                webhook_id = self._webhook(platform, base_url)
                if webhook_id is None:
                    continue
                for account in accounts:
                    if (account.platform, account.base_url.rstrip("/")) == (platform, base_url):
                        self._subscribe(account, webhook_id=webhook_id)
            return
        for account in accounts:
            self._subscribe(account)
        for platform, base_url in targets:
            self._hold_stream(platform, base_url)

    def _webhook(self, platform: str, base_url: str) -> str | None:
        """The webhook registered for this API (once per worker; a failure is tried again after
        `subscribe_retry_s`, and shown on the accounts as their last error)."""
        known, last = self._webhooks.get((platform, base_url), (None, None))
        if known is not None or (last is not None and self.clock() - last < self.options.subscribe_retry_s):
            return known
        try:
            hook, _created = webhook_registration.register(
                self.engine, self.settings, platform, base_url, now=self.now()
            )
        except webhook_registration.WebhookSetupError as exc:
            log.warning("%s webhook for %s: %s", platform, base_url, exc)
            ids = [
                a.id
                for a in state.realtime_accounts_list(self.engine)
                if (a.platform, a.base_url.rstrip("/")) == (platform, base_url)
            ]
            state.mark_connected(self.engine, ids, "webhook", connected=False, error=str(exc))
            self._webhooks[(platform, base_url)] = (None, self.clock())
            return None
        self._webhooks[(platform, base_url)] = (hook.webhook_id, self.clock())
        return hook.webhook_id

    def _subscribe(self, account: state.RealtimeAccount, *, webhook_id: str | None = None) -> None:
        """Each account once at start, then again only when it is not subscribed (new, reconnected
        after a revoke) and the last attempt is `subscribe_retry_s` old. With `webhook_id` the
        subscriptions deliver to that webhook, and the account counts as connected."""
        last = self._checked.get(account.id)
        if last is not None and (
            account.subscribed_at is not None or self.clock() - last < self.options.subscribe_retry_s
        ):
            return
        self._checked[account.id] = self.clock()
        rules = registry.realtime(account.platform)
        if rules is None:
            return
        mode: state.Delivery = "stream" if webhook_id is None else "webhook"
        connector = accounts_svc.connector_for_account(
            self.engine, self.settings, account.id, **self.connector_kwargs
        )
        try:
            if not isinstance(connector, ActivitySubscriber):
                return
            ensure_subscriptions(
                self.engine,
                account.id,
                account.external_user_id,
                connector,
                rules,
                mode=mode,
                webhook_id=webhook_id,
                move=None
                if webhook_id is None
                else webhook_registration.mover(
                    self.settings, account.platform, account.base_url, webhook_id
                ),
            )
            if webhook_id is not None:
                state.mark_connected(self.engine, [account.id], "webhook", connected=True, now=self.now())
        except ConnectorError as exc:
            log.warning("account %s: cannot subscribe to real-time events: %s", account.id, exc.detail)
            state.mark_subscribed(self.engine, account.id, mode, error=exc.detail)
        finally:
            connector.close()

    def _hold_stream(self, platform: str, base_url: str) -> None:
        name = lease_name(platform, base_url)
        running = self.consumers.get(name)
        if running is not None and running[1].is_alive():
            return
        rules = registry.realtime(platform)
        if rules is None:
            return
        if not schedule.claim_lease(
            self.engine, name, self.owner, now=self.now(), ttl_s=self.settings.lease_ttl_s
        ):
            return
        consumer = StreamConsumer(
            self.engine,
            self.settings,
            rules,
            base_url,
            owner=self.owner,
            stop=self.stop,
            ingestor=self.ingestor,
            options=self.options,
            clock=self.clock,
        )
        if running is not None:
            consumer.last_contact = running[0].last_contact  # resume where the previous one stopped
        thread = threading.Thread(target=consumer.run, name=f"activity-stream-{platform}", daemon=True)
        self.consumers[name] = (consumer, thread)
        log.info("this worker holds the %s activity stream for %s", platform, base_url)
        thread.start()

    def shutdown(self) -> None:
        for name, (consumer, thread) in list(self.consumers.items()):
            consumer.close()
            thread.join(timeout=10)
            try:
                schedule.release_lease(self.engine, name, self.owner, now=self.now())
            except Exception:
                log.exception("could not give the stream lease back; it runs out after the TTL")
