"""A fresh SQLite store made in one step: the schema the migrations build, replayed from a record.

`store/sqlite_head.py` holds every schema object (tables, the FTS5 table, indexes, triggers,
alembic_version) exactly as SQLite keeps it (`sqlite_master.sql`) after running all migrations on an
empty store, and the revision they reach. `create_sqlite_at_head` replays it on an empty store and
stamps that revision: the same schema, byte for byte, as `alembic upgrade head` (tests/store/
test_fresh.py compares them), without importing Alembic and every migration script, about a
quarter of the start-up of `flockdesk import` into a new store. Later migrations run on it as on any store.
A store of either backend already at that revision is left alone without loading Alembic either.

The record is used only when the migration scripts are exactly the ones it was made from; otherwise
(a migration added and the record not yet refreshed) the store is migrated as usual. Refresh it with
`uv run python -m flockdesk.store.fresh` after adding a migration.

A new PostgreSQL store runs the migrations: replaying its schema would need a record of
PostgreSQL's own DDL, which is not kept (yet).
"""

from __future__ import annotations

import json
import sqlite3
import sys
import tempfile
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from flockdesk.store import sqlite_head

VERSIONS_DIR = Path(__file__).parent / "migrations" / "versions"
RECORD = Path(__file__).parent / "sqlite_head.py"
_ORDER = {"table": 0, "index": 1, "trigger": 2, "view": 3}


def migration_scripts() -> tuple[str, ...]:
    return tuple(sorted(p.name for p in VERSIONS_DIR.glob("*.py")))


def record_applies() -> bool:
    """Whether the record was made from exactly these migration scripts."""
    return migration_scripts() == sqlite_head.MIGRATIONS


def create_sqlite_at_head(engine: Engine) -> bool:
    """Create the schema from the record when the store is empty; False (nothing done) when it is
    not empty or the record does not apply. The check and the creation share one write transaction,
    so of two processes starting on a new store one creates it and the other finds it made."""
    if not record_applies():
        return False
    with engine.begin() as conn:
        if _has_schema(conn):
            return False
        for statement in sqlite_head.STATEMENTS:
            conn.exec_driver_sql(statement)
        conn.exec_driver_sql("INSERT INTO alembic_version (version_num) VALUES (?)", (sqlite_head.REVISION,))
    return True


def at_head(engine: Engine) -> bool:
    """Whether the store is already at the recorded revision, which is the head while the record
    applies: nothing to migrate, so Alembic need not be loaded (any backend)."""
    if not record_applies():
        return False
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            return False
        versions = list(conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalars())
    return versions == [sqlite_head.REVISION]


def _has_schema(conn: Connection) -> bool:
    return conn.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar() != 0


def schema_objects(db: sqlite3.Connection) -> list[tuple[str, str, str, str]]:
    """(type, name, table, sql) of every object a migration made (not those SQLite makes itself:
    internal tables, automatic indexes, FTS5 shadow tables), in an order that replays: tables in
    creation order, then indexes, triggers and views."""
    shadow = {
        row[1]
        for row in db.execute("PRAGMA table_list")
        if row[2] == "shadow" or str(row[1]).startswith("sqlite_")
    }
    rows = db.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY rowid").fetchall()
    found = [
        (str(t), str(n), str(tbl), str(sql))
        for t, n, tbl, sql in rows
        if sql is not None and n not in shadow and not str(n).startswith("sqlite_")
    ]
    return sorted(found, key=lambda r: _ORDER.get(r[0], 9))  # stable: creation order within a type


def _render(revision: str, scripts: tuple[str, ...], statements: list[str]) -> str:
    def literal(text: str) -> str:
        quoted = json.dumps(text)  # a JSON string is a Python string literal too
        if '"' in text and "'" not in text:  # the quotes `ruff format` picks
            return "'" + quoted[1:-1].replace('\\"', '"') + "'"
        return quoted

    lines = [
        '"""The SQLite schema at the latest migration, as `sqlite_master` holds it after `alembic upgrade',
        "head` on an empty store. Written by `uv run python -m flockdesk.store.fresh`; do not edit.",
        'Used by store/fresh.py."""',
        "",
        f"REVISION = {literal(revision)}",
        "MIGRATIONS = (",
        *[f"    {literal(s)}," for s in scripts],
        ")",
        "STATEMENTS = (",
        *[f"    {literal(s)}," for s in statements],
        ")",
        "",
    ]
    return "\n".join(lines)


def write_record() -> None:
    """Run every migration on an empty SQLite store and write what it holds to sqlite_head.py."""
    from flockdesk.settings import Settings  # the generator only: not on the store's start-up path
    from flockdesk.store.db import current_revision, make_engine, migrate

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(Settings(data_dir=Path(tmp)))
        try:
            migrate(engine)
            revision = current_revision(engine)
        finally:
            engine.dispose()
        db = sqlite3.connect(Path(tmp) / "flockdesk.db")
        try:
            objects = schema_objects(db)
        finally:
            db.close()
    assert revision is not None
    statements = [sql for _, _, _, sql in objects]
    # migration 0002 rebuilds its FTS5 index, which writes the index's (empty) totals record
    statements += [
        f"INSERT INTO {name}({name}) VALUES ('rebuild')"
        for kind, name, _, sql in objects
        if kind == "table" and "USING fts5" in sql
    ]
    RECORD.write_text(_render(revision, migration_scripts(), statements))
    sys.stdout.write(f"wrote {RECORD} at revision {revision} ({len(statements)} statements)\n")


if __name__ == "__main__":
    write_record()
