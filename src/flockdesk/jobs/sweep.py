"""One sweep of one source: follow pagination to the end, each page stored with its cursor in one
transaction (the Ingestor's `cursor=`), so a killed worker resumes at the page it was on.

Cursor protocol (sync_cursors), newest first:
  * `since_id`: the high-water mark of the last completed sweep;
  * `next_token` + `pending_newest_id`: the sweep in progress (the next page, the newest id seen);
  * the last page (no next_token) moves `since_id` up to `pending_newest_id` and clears the rest.
Mentions and search send `since_id`; the DM endpoint has none, so a DM sweep stops at the first page
that reaches back to `since_id` (every older event was stored by an earlier, completed sweep).
Ids are ordered by the connector (`CursorOrder.compare_ids`): X's are numbers, other platforms'
need not be, and the cursor moves either way.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from flockdesk.connectors.base import (
    AuthError,
    ConnectorError,
    CursorOrder,
    DriftAware,
    FetchedPage,
    MalformedResponse,
    RateLimited,
    SourceReader,
    TransientError,
)
from flockdesk.domain.types import CursorUpdate, DeadLetter
from flockdesk.jobs.pacing import Pacer
from flockdesk.services.ingest.cursors import load_cursor
from flockdesk.services.monitoring import drift

log = logging.getLogger(__name__)

ENDPOINT_OF = {"mentions": "mentions", "search": "search", "dms": "dm_events"}


@dataclass
class SweepOutcome:
    state: str  # done | deferred | failed | stopped | partial
    pages: int = 0
    items: int = 0
    dead: int = 0
    retry_at: float | None = None  # for deferred: do not poll before this Unix time
    error: str | None = None


def _newer(order: CursorOrder, a: str | None, b: str | None) -> str | None:
    """The newer of two ids in the platform's order (either may be None)."""
    if not a:
        return b or a
    if not b:
        return a
    return a if order.compare_ids(a, b) >= 0 else b


def _reaches(order: CursorOrder, page_ids: list[str], since_id: str | None) -> bool:
    """True when the page holds an id at or before since_id."""
    if not since_id:
        return False
    return any(order.compare_ids(i, since_id) <= 0 for i in page_ids)


class Sweeper:
    def __init__(
        self,
        engine: Engine,
        ingestor: Any,
        pacer: Pacer,
        *,
        stop: threading.Event,
        max_pages: int = 200,
        inline_wait_max_s: float = 2.0,
        malformed_retries: int = 3,
        clock: Callable[[], float],
    ) -> None:
        self.engine = engine
        self.ingestor = ingestor
        self.pacer = pacer
        self.stop = stop
        self.max_pages = max_pages
        self.inline_wait_max_s = inline_wait_max_s
        self.malformed_retries = malformed_retries
        self.clock = clock

    def _fetch(
        self,
        connector: SourceReader,
        source: Any,
        account_ext_id: str,
        since_id: str | None,
        token: str | None,
    ) -> FetchedPage:
        kind = source["kind"]
        if kind == "mentions":
            return connector.fetch_mentions(account_ext_id, since_id=since_id, pagination_token=token)
        if kind == "search":
            return connector.fetch_search(source["query"], since_id=since_id, next_token=token)
        if kind == "dms":
            return connector.fetch_dm_events(pagination_token=token)
        raise ValueError(f"unknown source kind {kind!r}")

    def sweep(self, source: Any, account_ext_id: str, connector: SourceReader) -> SweepOutcome:
        """Sweep the source. A connector that adapts to parameters the API refuses gets what was
        learnt for this source before, and what it learns now is stored and logged once
        (services/monitoring/drift.py)."""
        if not isinstance(connector, DriftAware):
            return self._sweep(source, account_ext_id, connector)
        sid, endpoint = int(source["id"]), ENDPOINT_OF[source["kind"]]
        connector.use_degradations(endpoint, drift.load(self.engine, sid))
        try:
            return self._sweep(source, account_ext_id, connector)
        finally:
            for d in drift.record(self.engine, sid, connector.degradations(endpoint)):
                log.warning(
                    "source %s (%s): the API refused %s (%s); polling goes on with %s",
                    sid,
                    source["kind"],
                    d.parameter if d.value is None else f"{d.parameter}={d.value}",
                    d.detail,
                    d.replacement or "it dropped",
                )

    def _sweep(self, source: Any, account_ext_id: str, connector: SourceReader) -> SweepOutcome:
        sid, account_id, kind = int(source["id"]), int(source["account_id"]), source["kind"]
        endpoint = ENDPOINT_OF[kind]
        since_id, pending, token = load_cursor(self.engine, sid)
        if token is None:
            pending = None
        out = SweepOutcome("stopped")
        malformed = 0
        while not self.stop.is_set():
            if out.pages >= self.max_pages:
                out.state = "partial"  # let other sources have a turn; the cursor holds our place
                return out
            wait = self.pacer.wait_s(account_id, endpoint)
            if wait > self.inline_wait_max_s:
                out.state, out.retry_at = "deferred", self.clock() + wait
                return out
            if wait > 0 and self.stop.wait(wait):
                break
            try:
                fetched = self._fetch(
                    connector, source, account_ext_id, since_id if kind != "dms" else None, token
                )
            except RateLimited as exc:
                wait = self.pacer.blocked(account_id, endpoint, exc.reset_at)
                out.state, out.retry_at, out.error = (
                    "deferred",
                    self.clock() + wait,
                    f"rate limited: {exc.detail}",
                )
                return out
            except MalformedResponse as exc:
                malformed += 1
                dead = DeadLetter(
                    origin=f"{exc.platform}:{kind}",
                    reason=f"malformed response: {exc.detail}",
                    payload=exc.body,
                )
                self.ingestor.ingest_page(account_id, [], dead=[dead], source_id=sid)
                out.dead += 1
                if malformed > self.malformed_retries:
                    out.state, out.error = "failed", f"malformed responses: {exc.detail}"
                    return out
                continue  # the same request again; the cursor has not moved
            except (TransientError, AuthError) as exc:
                out.state, out.error = "failed", exc.detail
                return out
            except ConnectorError as exc:
                out.state, out.error = "failed", exc.detail
                return out
            page = fetched.page
            out.pages += 1
            pending = _newer(connector, pending, page.newest_id)
            if kind == "dms":
                last = page.next_token is None or _reaches(
                    connector, [i.external_id for i in page.items], since_id
                )
            else:
                last = page.next_token is None
            if last:
                cursor = CursorUpdate(sid, _newer(connector, since_id, pending), None, None)
            else:
                cursor = CursorUpdate(sid, since_id, pending, page.next_token)
            result = self.ingestor.ingest_page(
                account_id, page.items, cursor=cursor, dead=page.dead, source_id=sid
            )
            out.items += int(getattr(result, "inserted", len(page.items)))
            out.dead += len(page.dead)
            if last:
                out.state = "done"
                return out
            token = page.next_token
        return out
