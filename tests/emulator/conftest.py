"""Fixtures for the X API emulator tests: an in-process app (Starlette TestClient) around a fresh state."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from flockdesk.emulator import EmulatorConfig, EmulatorState, create_app


@pytest.fixture
def state() -> EmulatorState:
    return EmulatorState(EmulatorConfig(speedup=900, seed=7))


@pytest.fixture
def client(state: EmulatorState) -> Iterator[TestClient]:
    with TestClient(create_app(state)) as c:
        yield c


@pytest.fixture
def auth(state: EmulatorState) -> dict[str, str]:
    return {"Authorization": f"Bearer {state.token}"}


@pytest.fixture
def app_auth(state: EmulatorState) -> dict[str, str]:
    return {"Authorization": f"Bearer {state.app_bearer}"}
