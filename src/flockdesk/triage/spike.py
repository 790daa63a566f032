"""Spike detection (a firestorm): is this hour's count of negative-or-urgent messages far above usual?

Pure logic over hourly counts; services/monitoring/alerts.py feeds it from the store.

Warm-up: with no history the baseline is all zeros and the floor alone decides, so a fresh install
(or a demo) would open with a spike. No spike is reported until the store holds at least
WARMUP_HOURS of inbound history, i.e. its oldest inbound message is at least that old (imported
archives count: they are history too).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from flockdesk.domain.utc import as_utc

BASELINE_HOURS = 7 * 24
MIN_COUNT = 5
SD_FACTOR = 4.0
MEAN_FACTOR = 3.0
WARMUP_HOURS = 24


@dataclass(frozen=True, slots=True)
class SpikeVerdict:
    spike: bool
    current: int
    mean: float
    sd: float
    threshold: float

    def details(self) -> dict[str, float | int]:
        return {
            "current": self.current,
            "baseline_mean": round(self.mean, 3),
            "baseline_sd": round(self.sd, 3),
            "threshold": round(self.threshold, 3),
        }


def threshold(
    baseline: Sequence[int],
    *,
    min_count: int = MIN_COUNT,
    sd_factor: float = SD_FACTOR,
    mean_factor: float = MEAN_FACTOR,
) -> tuple[float, float, float]:
    """(threshold, mean, sd) for a baseline of hourly counts. A spike is a count strictly above it.

    The count must beat the floor `min_count` and the larger of mean + sd_factor*sd and mean_factor*mean,
    so a quiet account needs a real jump and a noisy one more than its usual noise.
    """
    n = len(baseline)
    mean = sum(baseline) / n if n else 0.0
    var = sum((c - mean) ** 2 for c in baseline) / n if n else 0.0
    sd = math.sqrt(var)
    return max(float(min_count), mean + sd_factor * sd, mean_factor * mean), mean, sd


def detect(current: int, baseline: Sequence[int], **kw: float) -> SpikeVerdict:
    thr, mean, sd = threshold(baseline, **kw)  # type: ignore[arg-type]
    return SpikeVerdict(current > thr, current, mean, sd, thr)


def hourly_counts(
    times: Iterable[datetime], now: datetime, hours: int = BASELINE_HOURS
) -> tuple[int, list[int]]:
    """Bucket event times into (count in the last hour up to `now`, counts of the `hours` hours before it).

    Naive datetimes are taken as UTC. Events after `now` are ignored.
    """
    now = as_utc(now)
    current = 0
    baseline = [0] * hours
    for t in times:
        age = (now - as_utc(t)).total_seconds()
        if age < 0:
            continue
        slot = int(age // 3600)
        if slot == 0:
            current += 1
        elif slot <= hours:
            baseline[slot - 1] += 1
    return current, baseline


def warmup_cutoff(now: datetime, hours: int = WARMUP_HOURS) -> datetime:
    """Spike detection is armed once some inbound message was created at or before this time."""
    return as_utc(now) - timedelta(hours=hours)


def window_start(now: datetime, hours: int = BASELINE_HOURS) -> datetime:
    return as_utc(now) - timedelta(hours=hours + 1)
