"""Fixtures for ingest tests: an organisation account on each backend."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from tests.services.ingest.builders import make_account


@pytest.fixture
def account_id(engine: Engine) -> int:
    return make_account(engine)
