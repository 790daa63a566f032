"""Pure spike detection over hourly counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flockdesk.triage.spike import MIN_COUNT, detect, hourly_counts, threshold

NOW = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)


def test_quiet_account_needs_the_floor() -> None:
    baseline = [0] * 168
    assert not detect(MIN_COUNT, baseline).spike
    assert detect(MIN_COUNT + 1, baseline).spike


def test_busy_account_needs_more_than_its_noise() -> None:
    baseline = [10, 14, 6, 12, 8] * 33 + [10, 10, 10]
    thr, mean, sd = threshold(baseline)
    assert mean == sum(baseline) / len(baseline)
    assert thr >= 3 * mean and thr >= mean + 4 * sd
    assert not detect(int(thr), baseline).spike
    assert detect(int(thr) + 1, baseline).spike
    assert detect(int(thr) + 1, baseline).details()["current"] == int(thr) + 1


def test_hourly_buckets() -> None:
    times = [
        NOW - timedelta(minutes=5),
        NOW - timedelta(minutes=59),
        NOW - timedelta(minutes=61),
        NOW - timedelta(hours=5, minutes=1),
        NOW + timedelta(minutes=1),
        NOW - timedelta(days=30),
    ]
    current, baseline = hourly_counts(times, NOW, hours=168)
    assert current == 2
    assert baseline[0] == 1 and baseline[4] == 1 and sum(baseline) == 2
    naive = [t.replace(tzinfo=None) for t in times]
    assert hourly_counts(naive, NOW, hours=168) == (current, baseline)
