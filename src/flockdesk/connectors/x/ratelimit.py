"""Reading `x-rate-limit-*` headers, and the per-user limits X documents (x-api.md section 2).

The headers are the source of truth; the table below is the fallback pacing when a response carries
none, so that, e.g., the DM source never polls more often than 15 times per 15 minutes.
"""

from __future__ import annotations

import random
from collections.abc import Mapping

from flockdesk.connectors.base import RateLimitState

WINDOW_S = 15 * 60

# endpoint -> requests per 15-minute window for one user token (x-api.md, "Per-endpoint limits").
PER_USER_LIMITS: dict[str, int] = {
    "mentions": 300,
    "search": 300,
    "dm_events": 15,
    "followers": 300,
    "users_me": 75,
    "post_create": 100,
    "dm_create": 15,
}


def _num(headers: Mapping[str, str], name: str) -> float | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def read_headers(headers: Mapping[str, str]) -> RateLimitState | None:
    """The rate-limit state in a response's headers, or None when it carries none."""
    limit = _num(headers, "x-rate-limit-limit")
    remaining = _num(headers, "x-rate-limit-remaining")
    reset = _num(headers, "x-rate-limit-reset")
    if limit is None and remaining is None and reset is None:
        return None
    return RateLimitState(
        limit=int(limit) if limit is not None else None,
        remaining=int(remaining) if remaining is not None else None,
        reset_at=reset,
    )


def min_spacing_s(endpoint: str, speedup: float = 1.0) -> float:
    """The shortest even spacing between calls that keeps within the documented per-user limit."""
    per_window = PER_USER_LIMITS.get(endpoint)
    if not per_window:
        return 0.0
    return WINDOW_S / per_window / max(speedup, 1e-9)


def jitter(seconds: float, fraction: float = 0.1) -> float:
    """`seconds` plus up to `fraction` more, so many workers do not wake at the same instant."""
    return seconds + random.uniform(0, max(seconds, 0.05) * fraction)


def backoff_s(attempt: int, base: float, cap: float) -> float:
    """Exponential backoff with full jitter for retry `attempt` (0-based)."""
    return random.uniform(base, min(cap, base * (2**attempt)) + base) if base > 0 else 0.0


def wait_for(state: RateLimitState | None, now: float, endpoint: str, fallback_backoff: float) -> float:
    """Seconds to wait before calling `endpoint` again after a 429 (never zero: no hot loop)."""
    if state is not None and state.reset_at is not None and state.reset_at > now:
        return jitter(state.reset_at - now + 0.05)
    return max(fallback_backoff, 0.05)
