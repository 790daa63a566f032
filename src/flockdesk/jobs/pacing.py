"""Per-account, per-endpoint pacing from the platform's own rate-limit headers (as the connector
read them into a RateLimitState).

* After a 429 (or `remaining` 0) the endpoint is closed until `reset` plus jitter; without a reset
  header, until an exponential backoff (never a hot loop).
* Endpoints the platform marks `always_spread` (X: DM reads and sends, 15 per 15 minutes per user)
  are always spread: the next call waits (reset - now) / remaining, so the DM source never outruns
  its quota. Other endpoints are spread the same way once fewer than 10% of their calls are left.
* A response without headers falls back to the platform's documented limit: the `EndpointPacing`
  the connector reports with each call (X: connectors/x/limits.py).

The state is kept in memory for the worker's decisions; the worker also saves the last headers for
`flockdesk status` (services/monitoring/rate_limits.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from flockdesk.connectors.backoff import backoff_s, jitter
from flockdesk.connectors.base import EndpointPacing, RateLimitState

NO_PACING = EndpointPacing()
SPREAD_BELOW = 0.10


@dataclass
class _Gate:
    not_before: float = 0.0
    strikes: int = 0  # consecutive 429s without a usable reset header


class Pacer:
    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        backoff_base_s: float = 1.0,
        backoff_cap_s: float = 900.0,
    ) -> None:
        self._clock = clock
        self._gates: dict[tuple[int, str], _Gate] = {}
        self._backoff = (backoff_base_s, backoff_cap_s)
        self.throttled: dict[str, int] = {}  # endpoint -> 429s received (for status and tests)

    def _gate(self, account_id: int, endpoint: str) -> _Gate:
        return self._gates.setdefault((account_id, endpoint), _Gate())

    def wait_s(self, account_id: int, endpoint: str) -> float:
        """Seconds before `endpoint` may be called for the account (0: now)."""
        return max(0.0, self._gate(account_id, endpoint).not_before - self._clock())

    def note(
        self,
        account_id: int,
        endpoint: str,
        rate: RateLimitState | None,
        *,
        status: int | None,
        pacing: EndpointPacing | None = None,
    ) -> None:
        """Take in one response's headers (pacing: the platform's fallback for this endpoint)."""
        pacing = pacing or NO_PACING
        now = self._clock()
        gate = self._gate(account_id, endpoint)
        if status == 429:
            self.throttled[endpoint] = self.throttled.get(endpoint, 0) + 1
            self.blocked(account_id, endpoint, rate.reset_at if rate else None)
            return
        if rate is None or rate.remaining is None:
            if pacing.always_spread and status is not None and status < 400:
                gate.not_before = max(gate.not_before, now + pacing.min_spacing_s)
            return
        gate.strikes = 0
        reset = rate.reset_at if rate.reset_at is not None else now + 900.0
        if rate.remaining <= 0:
            if reset > now:
                gate.not_before = max(gate.not_before, now + jitter(reset - now + 0.05))
            return
        low = rate.limit is not None and rate.remaining < max(1, rate.limit * SPREAD_BELOW)
        if pacing.always_spread or low:
            gate.not_before = max(gate.not_before, now + max(0.0, reset - now) / rate.remaining)

    def blocked(self, account_id: int, endpoint: str, reset_at: float | None) -> float:
        """A 429: close the endpoint until reset (or a growing backoff); returns the wait."""
        now = self._clock()
        gate = self._gate(account_id, endpoint)
        if reset_at is not None and reset_at > now:
            gate.strikes = 0
            gate.not_before = max(gate.not_before, now + jitter(reset_at - now + 0.05))
        else:
            base, cap = self._backoff
            gate.not_before = max(gate.not_before, now + backoff_s(gate.strikes, base, cap))
            gate.strikes += 1
        return gate.not_before - now
