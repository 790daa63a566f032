"""Reading X's `x-rate-limit-*` headers, and the per-user limits X documents (x-api.md section 2).

The headers are the source of truth; the table below is the fallback pacing when a response carries
none, so that, e.g., the DM source never polls more often than 15 times per 15 minutes.
"""

from __future__ import annotations

from collections.abc import Mapping

from flockdesk.connectors.base import EndpointPacing, RateLimitState

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

# DM reads and sends have so small a quota (15 per 15 minutes) that calls are always spread evenly.
ALWAYS_SPREAD = frozenset({"dm_events", "dm_create"})


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


def pacing(endpoint: str) -> EndpointPacing:
    return EndpointPacing(min_spacing_s(endpoint), endpoint in ALWAYS_SPREAD)
