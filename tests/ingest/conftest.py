"""Fixtures for ingest tests: an organisation account on each backend."""

from __future__ import annotations

import pytest
from ingest_builders import make_account
from sqlalchemy import Engine


@pytest.fixture
def account_id(engine: Engine) -> int:
    return make_account(engine)
