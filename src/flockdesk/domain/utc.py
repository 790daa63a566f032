"""UTC helpers for times that come from outside the store (a caller's `now`, a parsed cursor or
platform time). The store's own datetime columns read back aware UTC already (store/types.py)."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
