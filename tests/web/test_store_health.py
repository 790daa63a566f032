"""A read-only API call does not wait for the write lock, and /healthz asks the database."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from flockdesk.services.team import users as users_svc
from flockdesk.settings import Settings
from flockdesk.store.db import make_engine, upgrade
from flockdesk.store.schema import api_tokens
from flockdesk.web.app import create_app


@pytest.fixture
def short_busy(tmp_path: Path) -> Iterator[tuple[Settings, Engine, Path]]:
    """A SQLite store whose busy timeout is short, so a wait on the lock shows at once."""
    settings = Settings(data_dir=tmp_path / "data", secret_key="test-secret-key", sqlite_busy_timeout_ms=300)
    engine = make_engine(settings)
    upgrade(engine)
    yield settings, engine, settings.data_dir / "flockdesk.db"
    engine.dispose()


def _last_used(engine: Engine) -> object:
    with engine.connect() as conn:
        return conn.execute(sa.select(api_tokens.c.last_used_at)).scalar_one()


def test_a_token_get_succeeds_while_another_connection_holds_the_write_lock(
    short_busy: tuple[Settings, Engine, Path],
) -> None:
    settings, engine, path = short_busy
    user = users_svc.create_user(engine, "bob", "a good password", "agent")
    headers = {"Authorization": f"Bearer {users_svc.create_api_token(engine, user.id)}"}
    writer = sqlite3.connect(path, isolation_level=None)
    with TestClient(create_app(settings, engine)) as client:
        writer.execute("BEGIN IMMEDIATE")  # e.g. the worker's ingest batch, held open
        try:
            for _ in range(3):
                resp = client.get("/api/v1/conversations", headers=headers)
                assert resp.status_code == 200, resp.text
        finally:
            writer.execute("ROLLBACK")
            writer.close()
        assert _last_used(engine) is None  # the usage stamp was skipped, not waited for
        assert client.get("/api/v1/conversations", headers=headers).status_code == 200
        stamped = _last_used(engine)
        assert stamped is not None
        assert client.get("/api/v1/conversations", headers=headers).status_code == 200
        assert _last_used(engine) == stamped  # written at most every few minutes


def test_healthz_ok_when_the_store_answers(settings: Settings, engine: Engine) -> None:
    with TestClient(create_app(settings, engine)) as client:
        resp = client.get("/healthz")
    assert resp.status_code == 200 and resp.json() == {"status": "ok"}


@pytest.mark.parametrize(
    "url",
    ["sqlite:///{tmp}/a-file/flockdesk.db", "postgresql+psycopg://fd:secret@127.0.0.1:1/flockdesk"],
    ids=["sqlite", "postgres"],
)
def test_healthz_503_when_the_engine_cannot_connect(tmp_path: Path, url: str) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    url = url.format(tmp=tmp_path)
    settings = Settings(data_dir=tmp_path / "data", secret_key="test-secret-key", database_url=url)
    engine = make_engine(settings)
    with TestClient(create_app(settings, engine)) as client:
        resp = client.get("/healthz")
    engine.dispose()
    assert resp.status_code == 503
    assert resp.json() == {"status": "unavailable", "reason": "database unreachable"}
    assert "secret" not in resp.text and "127.0.0.1" not in resp.text


def test_healthz_503_when_the_store_is_locked(short_busy: tuple[Settings, Engine, Path]) -> None:
    settings, engine, path = short_busy
    engine.dispose()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with TestClient(create_app(settings, engine)) as client:
            resp = client.get("/healthz")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert resp.status_code == 503 and resp.json()["reason"].startswith("database busy")
