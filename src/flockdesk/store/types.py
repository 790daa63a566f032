"""Column types of the store that both backends read back alike."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect
from sqlalchemy.types import TypeDecorator


class NaiveDatetimeError(ValueError):
    """A datetime without a time zone was about to be stored: its instant is unknown."""


class UTCDateTime(TypeDecorator[datetime]):
    """A point in time, stored as UTC and always read back as an aware UTC datetime.

    SQLite keeps "YYYY-MM-DD HH:MM:SS.ffffff" text with no offset (SQLAlchemy drops the time zone),
    PostgreSQL a `timestamptz` that psycopg hands back in the session's zone; both come back here as
    `tzinfo=UTC`. A bound aware value is converted to UTC first (SQLite would otherwise store its local
    wall time). A naive value is refused with `NaiveDatetimeError`: taking it as UTC would silently
    shift a local time, and PostgreSQL would read it in the session's zone instead.

    The DDL is `DateTime(timezone=True)`'s, so no migration is needed. Raw SQL (text(), the bulk
    writers in store/bulk.py) does not pass through here: store/bulk.py converts itself and
    `utc_from_store` reads raw values.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return to_store(value, dialect.name == "sqlite")

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        # runs for every datetime of every row read: the common cases first, without further calls
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value if value.tzinfo is UTC else value.astimezone(UTC)

    def process_literal_param(self, value: datetime | None, dialect: Dialect) -> str:
        # only for compiled SQL with literal_binds (migrations, debugging output)
        if value is None:
            return "NULL"
        return f"'{to_store(value, dialect.name == 'sqlite').isoformat(' ')}'"

    @property
    def python_type(self) -> type[datetime]:
        return datetime


def to_store(value: datetime, sqlite: bool) -> datetime:
    """The value as the store keeps it: UTC, naive on SQLite (whose text has no offset)."""
    if not isinstance(value, datetime):
        raise TypeError(f"a datetime column was given {type(value).__name__} {value!r}, not a datetime")
    if value.tzinfo is None:
        raise NaiveDatetimeError(
            f"refusing to store the naive datetime {value.isoformat()}: give it a time zone "
            "(datetime.now(UTC), or .replace(tzinfo=UTC) if it is known to be UTC)"
        )
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None) if sqlite else value


def utc_from_store(value: Any) -> datetime | None:
    """An aware UTC datetime from what a backend hands back for a datetime column: a naive datetime
    (SQLite through SQLAlchemy, stored as UTC), an aware one (PostgreSQL), or the raw text a `text()`
    query returns on SQLite ("YYYY-MM-DD HH:MM:SS[.ffffff]", optionally with an offset)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise TypeError(f"expected a stored datetime, got {type(value).__name__} {value!r}")
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    if value.tzinfo is UTC:
        return value
    return value.astimezone(UTC)
