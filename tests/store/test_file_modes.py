"""The SQLite store holds messages and password hashes: its files and directory are owner-only."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from flockdesk.settings import Settings
from flockdesk.store.db import make_engine, upgrade


@pytest.fixture
def default_umask() -> Iterator[None]:
    old = os.umask(0o022)  # the usual umask, which makes files 0644 unless asked otherwise
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_store_files_and_data_dir_are_owner_only(tmp_path: Path, default_umask: None) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    engine = make_engine(settings)
    upgrade(engine)
    with engine.connect() as conn:  # while a connection is open the -wal and -shm files exist
        conn.execute(sa.text("SELECT count(*) FROM users")).scalar()
        db = settings.data_dir / "flockdesk.db"
        files = [db, Path(f"{db}-wal"), Path(f"{db}-shm")]
        assert all(f.exists() for f in files)
        assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}
    engine.dispose()
    settings.resolved_secret_key()
    assert _mode(settings.data_dir / "secret.key") == 0o600
    assert _mode(settings.data_dir) == 0o700


def test_an_existing_readable_store_is_tightened(tmp_path: Path, default_umask: None) -> None:
    data = tmp_path / "data"
    data.mkdir()
    db = data / "flockdesk.db"
    db.touch(mode=0o644)
    os.chmod(db, 0o644)
    engine = make_engine(Settings(data_dir=data))
    upgrade(engine)
    engine.dispose()
    assert _mode(db) == 0o600


def test_explicit_sqlite_url_is_owner_only_too(tmp_path: Path, default_umask: None) -> None:
    db = tmp_path / "elsewhere" / "store.db"
    engine = make_engine(Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{db}"))
    upgrade(engine)
    engine.dispose()
    assert _mode(db) == 0o600 and _mode(db.parent) == 0o700
