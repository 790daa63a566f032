from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from .helpers import add_account_row


@pytest.fixture
def account_id(engine: Engine) -> int:
    return add_account_row(engine)


@pytest.fixture
def sqlite_engine(sqlite_settings: object) -> Iterator[Engine]:
    """One migrated SQLite store for property tests (hypothesis reuses it across examples)."""
    from flockdesk.store.db import make_engine, upgrade

    eng = make_engine(sqlite_settings)  # type: ignore[arg-type]
    upgrade(eng)
    yield eng
    eng.dispose()
