from __future__ import annotations

import pytest

from flockdesk.connectors import registry
from flockdesk.connectors.base import RateLimitState
from flockdesk.jobs.pacing import Pacer

X_DM_READS = registry.profile("x").pacing("dm_events")  # what the X connector reports with a DM read


class Clock:
    def __init__(self) -> None:
        self.t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


def test_429_closes_the_endpoint_until_reset() -> None:
    clock = Clock()
    p = Pacer(clock=clock)
    p.note(1, "mentions", RateLimitState(300, 0, clock.t + 30), status=429)
    assert 30 <= p.wait_s(1, "mentions") <= 30 * 1.2
    assert p.wait_s(2, "mentions") == 0  # another account is not affected
    clock.t += 40
    assert p.wait_s(1, "mentions") == 0


def test_429_without_reset_backs_off_exponentially_never_zero() -> None:
    clock = Clock()
    p = Pacer(clock=clock, backoff_base_s=1.0, backoff_cap_s=100.0)
    waits = []
    for _ in range(5):
        waits.append(p.blocked(1, "search", None))
        clock.t += waits[-1]
    assert all(w > 0 for w in waits)
    assert max(waits[3:]) > min(waits[:2])


def test_dm_reads_are_spread_over_the_window() -> None:
    clock = Clock()
    p = Pacer(clock=clock)
    p.note(1, "dm_events", RateLimitState(15, 5, clock.t + 100), status=200, pacing=X_DM_READS)
    assert p.wait_s(1, "dm_events") == pytest.approx(20.0)
    # plenty left on mentions: no pacing
    p.note(1, "mentions", RateLimitState(300, 200, clock.t + 100), status=200)
    assert p.wait_s(1, "mentions") == 0
    # under 10% left: spread
    p.note(1, "mentions", RateLimitState(300, 10, clock.t + 100), status=200)
    assert p.wait_s(1, "mentions") == pytest.approx(10.0)


def test_dm_reads_without_headers_keep_to_the_documented_limit() -> None:
    clock = Clock()
    p = Pacer(clock=clock)
    p.note(1, "dm_events", None, status=200, pacing=X_DM_READS)
    assert p.wait_s(1, "dm_events") == pytest.approx(60.0)  # 15 per 15 minutes
