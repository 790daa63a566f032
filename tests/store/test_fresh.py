"""A new SQLite store made from the recorded schema (store/fresh.py) is the store the migrations make."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from flockdesk.settings import Settings
from flockdesk.store import db, fresh, sqlite_head
from flockdesk.store.db import alembic_config, current_revision, make_engine, migrate, upgrade


def _store(tmp_path: Path, name: str) -> tuple[sa.Engine, Path]:
    data = tmp_path / name
    engine = make_engine(Settings(data_dir=data, secret_key="test-secret-key"))
    return engine, data / "flockdesk.db"


def _contents(path: Path) -> dict[str, Any]:
    """Everything the file holds: every sqlite_master entry (FTS5 shadow tables included), every
    table's rows, and the header fields a migration could set."""
    db = sqlite3.connect(path)
    try:
        master = sorted(
            db.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall(), key=repr
        )
        tables = [n for t, n, _, _ in master if t == "table" and not n.endswith("_fts")]
        rows = {t: sorted(db.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables}
        header = {p: db.execute(f"PRAGMA {p}").fetchone()[0] for p in ("user_version", "application_id")}
    finally:
        db.close()
    return {"master": master, "rows": rows, "header": header}


def test_a_new_store_gets_exactly_the_schema_the_migrations_build(tmp_path: Path) -> None:
    migrated, migrated_path = _store(tmp_path, "migrated")
    made, made_path = _store(tmp_path, "made")
    try:
        migrate(migrated)
        assert fresh.create_sqlite_at_head(made) is True
        assert current_revision(made) == current_revision(migrated) == sqlite_head.REVISION
    finally:
        migrated.dispose()
        made.dispose()
    expected = _contents(migrated_path)
    assert len(expected["master"]) > 50  # tables, indexes, the FTS5 table and its triggers
    assert _contents(made_path) == expected


def test_the_record_is_made_from_the_current_migrations() -> None:
    head = ScriptDirectory.from_config(alembic_config(sa.create_engine("sqlite://"))).get_heads()
    stale = "refresh it: uv run python -m flockdesk.store.fresh"
    assert fresh.record_applies(), stale
    assert head == [sqlite_head.REVISION], stale


def test_upgrade_uses_the_record_for_an_empty_store_only(tmp_path: Path) -> None:
    engine, _ = _store(tmp_path, "old")
    try:
        migrate(engine, "0007")
        assert fresh.create_sqlite_at_head(engine) is False
        upgrade(engine)
        assert current_revision(engine) == sqlite_head.REVISION
    finally:
        engine.dispose()


def test_a_stale_record_leaves_a_new_store_to_the_migrations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_head, "MIGRATIONS", sqlite_head.MIGRATIONS[:-1])
    engine, path = _store(tmp_path, "stale")
    try:
        assert fresh.create_sqlite_at_head(engine) is False
        assert sa.inspect(engine).get_table_names() == []
        upgrade(engine)
        assert current_revision(engine) == sqlite_head.REVISION
    finally:
        engine.dispose()
    assert "messages" in {name for _, name, _, _ in _contents(path)["master"]}


def test_a_store_made_from_the_record_migrates_down_and_up(tmp_path: Path) -> None:
    engine, _ = _store(tmp_path, "both-ways")
    try:
        upgrade(engine)
        command.downgrade(alembic_config(engine), "0001")
        assert current_revision(engine) == "0001"
        upgrade(engine)
        assert current_revision(engine) == sqlite_head.REVISION
    finally:
        engine.dispose()


def test_the_record_replays_in_order() -> None:
    """Tables come before the indexes and triggers on them."""
    kinds = [s.split()[1] for s in sqlite_head.STATEMENTS]
    first_other = next(i for i, k in enumerate(kinds) if k not in ("TABLE", "VIRTUAL"))
    assert all(k not in ("TABLE", "VIRTUAL") for k in kinds[first_other:])


def test_a_store_at_the_head_is_left_alone(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both backends: upgrading a store already at the head runs no migration (Alembic stays unloaded)."""
    assert fresh.at_head(engine)

    def no_migration(*_: Any, **__: Any) -> None:
        raise AssertionError("a store at the head was migrated")

    monkeypatch.setattr(db, "migrate", no_migration)
    upgrade(engine)
    assert current_revision(engine) == sqlite_head.REVISION


def test_a_store_behind_the_head_is_migrated(engine: sa.Engine) -> None:
    command.downgrade(alembic_config(engine), "0014")
    assert not fresh.at_head(engine)
    upgrade(engine)
    assert fresh.at_head(engine)
