"""Shared fixtures. `engine` is parametrized over SQLite and PostgreSQL: each PostgreSQL test gets a
fresh database created on 127.0.0.1:5432 and dropped afterwards."""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlalchemy import Engine

from flockdesk.services.team import users as users_svc
from flockdesk.settings import Settings
from flockdesk.store.db import make_engine, upgrade
from tests.rows import add_account_row

PG_ADMIN_URL = os.environ.get("FLOCKDESK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SHARED = Path(__file__).resolve().parents[2] / "shared"
# the emulator listens on 127.0.0.1, a host the server calls only when the allow-list names it
EMULATOR_HOSTS = ["127.0.0.1"]


def _pg_available() -> bool:
    try:
        eng = sa.create_engine(PG_ADMIN_URL)
        with eng.connect():
            pass
        eng.dispose()
        return True
    except Exception:
        return False


_PG = None


def pg_available() -> bool:
    global _PG
    if _PG is None:
        _PG = _pg_available()
    return _PG


def _make_pg_database() -> str:
    name = "fd_test_" + uuid.uuid4().hex[:12]
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def _drop_pg_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """Settings for a fresh, empty store on each backend (not yet migrated)."""
    if request.param == "sqlite":
        yield Settings(
            data_dir=tmp_path / "data", secret_key="test-secret-key", allowed_api_hosts=EMULATOR_HOSTS
        )
        return
    if not pg_available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not reachable on 127.0.0.1:5432 (CI must start it: see .ci/run)")
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    url = _make_pg_database()
    try:
        yield Settings(
            data_dir=tmp_path / "data",
            database_url=url,
            secret_key="test-secret-key",
            allowed_api_hosts=EMULATOR_HOSTS,
        )
    finally:
        _drop_pg_database(url)


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data", secret_key="test-secret-key", allowed_api_hosts=EMULATOR_HOSTS
    )


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    """A migrated store on each backend."""
    eng = make_engine(settings)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine(sqlite_settings: Settings) -> Iterator[Engine]:
    """One migrated SQLite store for property tests (hypothesis reuses it across examples)."""
    eng = make_engine(sqlite_settings)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def account_id(engine: Engine) -> int:
    """An organisation's X account row (no network, a dummy token)."""
    return add_account_row(engine)


@pytest.fixture(autouse=True)
def _fast_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real argon2id, with cheap parameters so the suite stays fast."""
    monkeypatch.setattr(users_svc, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def shared_dir() -> Path:
    if not SHARED.exists():
        pytest.skip(f"{SHARED} is absent (a user's clone has no shared/ data)")
    return SHARED


LEAKED_SECRET = "root:x:0:0 internal-metadata-token-4f9a"


class _Leaky(BaseHTTPRequestHandler):
    """An internal service that answers every request with something secret."""

    def _answer(self) -> None:
        body = json.dumps({"detail": LEAKED_SECRET, "title": LEAKED_SECRET}).encode()
        self.send_response(400)
        self.send_header("content-type", "application/problem+json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: Any) -> None:
        pass


@dataclass(frozen=True)
class LeakyHttp:
    url: str
    secret: str = LEAKED_SECRET


@pytest.fixture
def leaky_http() -> Iterator[LeakyHttp]:
    """An HTTP service on 127.0.0.1 whose every answer (400 problem+json) carries `secret`."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Leaky)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LeakyHttp(f"http://127.0.0.1:{server.server_address[1]}")
    server.shutdown()
    server.server_close()
