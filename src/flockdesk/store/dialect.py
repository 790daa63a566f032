"""What differs between the store's two backends, PostgreSQL and SQLite, in one place: services call
these functions and never branch on the dialect or import `sqlalchemy.dialects` themselves."""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa
from sqlalchemy import Connection, Engine

if TYPE_CHECKING:  # Alembic is loaded only when migrations run (store/db.py)
    from alembic.runtime.migration import MigrationContext


def is_sqlite(bind: Engine | Connection) -> bool:
    return bind.dialect.name == "sqlite"


def is_postgresql(bind: Engine | Connection) -> bool:
    return bind.dialect.name == "postgresql"


def upsert(conn: Connection, table: sa.Table) -> Any:
    """The dialect's INSERT, which has `.on_conflict_do_update` / `.on_conflict_do_nothing` and
    `.excluded` (PostgreSQL and SQLite spell ON CONFLICT alike, but SQLAlchemy builds it from each
    dialect's own `insert`)."""
    # the connection's own dialect module, which its engine has loaded already: importing both at the
    # top would load PostgreSQL's dialect into every SQLite process, a noticeable share of start-up
    return importlib.import_module(f"sqlalchemy.dialects.{conn.dialect.name}").insert(table)


def in_json(conn: Connection, column: sa.ColumnElement[Any], values: Sequence[Any]) -> sa.ColumnElement[bool]:
    """`column IN (values)` with ONE bound JSON array: the statement compiles once and is cached,
    instead of rendering (and naming) thousands of parameters per batch."""
    payload = orjson.dumps(list(values)).decode()
    if is_sqlite(conn):
        sub = sa.text("SELECT value FROM json_each(:in_values)")
    elif isinstance(column.type, sa.Integer):
        sub = sa.text("SELECT (json_array_elements_text(CAST(:in_values AS json)))::bigint")
    else:
        sub = sa.text("SELECT json_array_elements_text(CAST(:in_values AS json))")
    return column.in_(sub.bindparams(in_values=payload).columns(sa.column("value")))


def widen_sqlite_cache(conn: Connection, *, cache_kib: int, mmap_bytes: int) -> None:
    """A larger page cache and memory map for this connection, for a bulk write on SQLite (PostgreSQL's
    caches are the server's: nothing to do)."""
    if is_sqlite(conn):
        conn.exec_driver_sql(f"PRAGMA cache_size=-{int(cache_kib)}")
        conn.exec_driver_sql(f"PRAGMA mmap_size={int(mmap_bytes)}")


def analyze(engine: Engine, columns: Mapping[str, Sequence[str]]) -> float | None:
    """Refresh PostgreSQL's planner statistics of the given tables' columns (outside any transaction);
    returns the first table's estimated row count. SQLite: nothing to do, None."""
    if not is_postgresql(engine):
        return None
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table, cols in columns.items():
            conn.exec_driver_sql(f"ANALYZE {table} ({', '.join(cols)})")
        q = sa.text("SELECT reltuples FROM pg_class WHERE relname = :t")
        return float(conn.execute(q, {"t": next(iter(columns))}).scalar() or 0.0)


def serialize_transaction(conn: Connection, key: int) -> None:
    """Make concurrent transactions that pass the same `key` run one after another: a transaction-level
    advisory lock on PostgreSQL; SQLite's writers already hold the store's one write lock
    (BEGIN IMMEDIATE, store/db.py)."""
    if is_postgresql(conn):
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


def compare_column_type(
    context: MigrationContext,
    inspected_column: sa.Column[Any],
    metadata_column: sa.Column[Any],
    inspected_type: sa.types.TypeEngine[Any],
    metadata_type: sa.types.TypeEngine[Any],
) -> bool | None:
    """Alembic's `compare_type` hook: its own comparison (None), except that on SQLite a VARCHAR's
    declared length is no difference. SQLite stores text of any length in a VARCHAR column, so
    migrations widen ids only on PostgreSQL (0008) and SQLite keeps the lengths it was created with."""
    if (
        context.dialect.name == "sqlite"
        and isinstance(inspected_type, sa.String)
        and isinstance(metadata_type, sa.String)
        and not isinstance(inspected_type, sa.Text)
        and not isinstance(metadata_type, sa.Text)
        and inspected_type.length != metadata_type.length
    ):
        return False
    return None
