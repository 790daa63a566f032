"""Retry and pacing arithmetic shared by every connector and the worker's pacer (no platform rules)."""

from __future__ import annotations

import random


def jitter(seconds: float, fraction: float = 0.1) -> float:
    """`seconds` plus up to `fraction` more, so many workers do not wake at the same instant."""
    return seconds + random.uniform(0, max(seconds, 0.05) * fraction)


def backoff_s(attempt: int, base: float, cap: float) -> float:
    """Exponential backoff with full jitter for retry `attempt` (0-based)."""
    return random.uniform(base, min(cap, base * (2**attempt)) + base) if base > 0 else 0.0
