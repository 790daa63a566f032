"""INSERT ... ON CONFLICT for the store's two dialects (PostgreSQL and SQLite spell it alike, but
SQLAlchemy builds it from each dialect's own `insert`)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite


def insert(conn: Connection, table: sa.Table) -> Any:
    """An INSERT with `on_conflict_do_nothing` / `on_conflict_do_update` for the connection's dialect."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
