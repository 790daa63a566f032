"""Engine creation and migrations. Nothing is created at import time."""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Executable, create_engine, event, make_url, text
from sqlalchemy.exc import DBAPIError, OperationalError

from flockdesk.settings import Settings
from flockdesk.store import fresh
from flockdesk.store.dialect import is_sqlite

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
log = logging.getLogger(__name__)


def _private_sqlite_file(url: str) -> None:
    """Create the SQLite file owner-only (0600) before SQLite opens it: it holds messages and password
    hashes. SQLite gives the -wal and -shm files the database file's mode; files an older version left
    readable are tightened too."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    except OSError as exc:  # SQLite reports the unusable path itself when it connects
        log.warning("cannot create the SQLite store %s: %s", path, exc)
        return
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if p.exists() and p.stat().st_mode & 0o077:
            p.chmod(0o600)


def make_engine(settings: Settings, **kwargs: Any) -> Engine:
    url = settings.resolved_database_url()
    if url.startswith("sqlite"):
        _private_sqlite_file(url)
        engine = create_engine(
            url,
            connect_args={"timeout": settings.sqlite_busy_timeout_ms / 1000, "check_same_thread": False},
            **kwargs,
        )
        busy = int(settings.sqlite_busy_timeout_ms)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # pysqlite's own transaction handling is disabled so that BEGIN IMMEDIATE
            # (below) takes the write lock up front instead of upgrading mid-transaction.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={busy}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # Writers (engine.begin()) take the write lock up front, so a read-then-write transaction
            # never fails on a stale snapshot; plain reads (engine.connect()) stay deferred, and in WAL
            # mode they never wait for the writer.
            if conn.get_execution_options().get("flockdesk_immediate"):
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                conn.exec_driver_sql("BEGIN")

        @contextmanager
        def _begin_immediate() -> Iterator[Connection]:
            with engine.connect() as conn:
                conn.execution_options(flockdesk_immediate=True)
                with conn.begin():
                    yield conn

        engine.begin = _begin_immediate  # type: ignore[method-assign]
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    # JIT compilation costs more than it saves on the inbox's short indexed queries. The statement
    # timeout ends a query stuck behind a lock instead of letting the request hang (0 = no limit).
    timeout_ms = max(0, round(settings.db_statement_timeout_s * 1000))
    connect_args = {"options": f"-c jit=off -c statement_timeout={timeout_ms}"}
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)


# Alembic is imported by the functions that run it, not at the top: with its templating and
# highlighting dependencies it is a large share of start-up, and a new SQLite store never needs it
# (store/fresh.py).


def alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the store to `revision`. Asked for the head (store/fresh.py): a store already there is
    left alone and an empty SQLite store gets the migrations' recorded schema in one step; every
    other store runs the migrations."""
    if revision == "head" and (
        fresh.at_head(engine) or (is_sqlite(engine) and fresh.create_sqlite_at_head(engine))
    ):
        return
    migrate(engine, revision)


def migrate(engine: Engine, revision: str = "head") -> None:
    """Run the Alembic migrations up to `revision`, whatever the store holds."""
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def try_write(engine: Engine, statement: Executable, *, wait_ms: int = 50) -> bool:
    """Run one write statement in its own transaction unless the store is busy: when another
    writer holds the lock for more than `wait_ms`, skip it and return False instead of waiting out
    the busy/statement timeout. For writes that may be skipped, such as a token's last-used stamp."""
    wait_ms = max(1, int(wait_ms))  # PostgreSQL reads a lock_timeout of 0 as "wait forever"
    try:
        if is_sqlite(engine):
            with engine.connect() as conn:
                dbapi_conn: Any = conn.connection.driver_connection
                before = int(dbapi_conn.execute("PRAGMA busy_timeout").fetchone()[0])
                dbapi_conn.execute(f"PRAGMA busy_timeout={wait_ms}")
                try:
                    conn.execution_options(flockdesk_immediate=True)
                    with conn.begin():
                        conn.execute(statement)
                finally:
                    dbapi_conn.execute(f"PRAGMA busy_timeout={before}")
        else:
            with engine.begin() as conn:
                conn.exec_driver_sql(f"SET LOCAL lock_timeout = {wait_ms}")
                conn.execute(statement)
    except (OperationalError, sqlite3.OperationalError) as exc:  # the PRAGMAs run on the raw driver
        log.debug("store busy, write skipped: %s", exc)
        return False
    return True


def check_store(engine: Engine, *, timeout_s: float = 2.0) -> str | None:
    """None when the store answers a query within `timeout_s`, else a short reason (for /healthz:
    no connection details, which stay in the log)."""
    timeout_ms = max(1, round(timeout_s * 1000))
    try:
        with engine.connect() as conn:
            if is_sqlite(engine):
                dbapi_conn: Any = conn.connection.driver_connection
                before = int(dbapi_conn.execute("PRAGMA busy_timeout").fetchone()[0])
                dbapi_conn.execute(f"PRAGMA busy_timeout={timeout_ms}")
                try:
                    # reading the schema takes a shared lock, so a store locked for reading fails here
                    conn.execute(text("SELECT count(*) FROM sqlite_master")).scalar()
                finally:
                    dbapi_conn.execute(f"PRAGMA busy_timeout={before}")
            else:
                conn.exec_driver_sql(f"SET LOCAL statement_timeout = {timeout_ms}")
                conn.execute(text("SELECT 1")).scalar()
            conn.rollback()
    except (DBAPIError, sqlite3.Error) as exc:  # the PRAGMAs run on the raw driver
        log.warning("health check: the database did not answer: %s", exc)
        message = str(getattr(exc, "orig", exc)).lower()
        if "locked" in message or "busy" in message or "timeout" in message or "canceling" in message:
            return "database busy: it is locked or too slow to answer"
        return "database unreachable"
    return None
