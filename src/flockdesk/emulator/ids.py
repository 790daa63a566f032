"""Snowflake-like ids: increasing numeric strings whose high bits carry the creation time, as X's do."""

from __future__ import annotations

import time
from datetime import UTC, datetime

TWEPOCH_MS = 1288834974657  # X's snowflake epoch (2010-11-04)


class IdGenerator:
    """Hands out strictly increasing snowflake ids; the state's lock guards it."""

    def __init__(self) -> None:
        self._last = 0

    def next(self, now_ms: int | None = None) -> int:
        ms = int(time.time() * 1000) if now_ms is None else now_ms
        candidate = (ms - TWEPOCH_MS) << 22
        value = max(candidate, self._last + 1)
        self._last = value
        return value


def id_for_time(ms: int) -> int:
    """The smallest id that could have been created at `ms` (Unix milliseconds)."""
    return (ms - TWEPOCH_MS) << 22


def id_time_ms(snowflake: int) -> int:
    return (snowflake >> 22) + TWEPOCH_MS


def created_at(snowflake: int) -> str:
    """X's timestamp format for an id: 2021-01-06T18:40:40.000Z."""
    ms = id_time_ms(snowflake)
    dt = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
