"""Web app fixtures: the app over the migrated `engine` (SQLite and PostgreSQL), users, signed-in clients."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from flockdesk.services.team import users as users_svc
from flockdesk.settings import Settings
from flockdesk.web.app import create_app

PASSWORD = "correct horse battery"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
META_RE = re.compile(r'<meta name="csrf-token" content="([^"]*)"')


# HTTP-layer behaviour that does not depend on the database backend runs on SQLite only.
SQLITE_ONLY = pytest.mark.parametrize("settings", ["sqlite"], indirect=True)


@pytest.fixture
def app(settings: Settings, engine: Engine):  # type: ignore[no-untyped-def]
    return create_app(settings, engine)


@pytest.fixture
def people(engine: Engine) -> dict[str, users_svc.User]:
    return {
        "admin": users_svc.create_user(engine, "ada", PASSWORD, "admin", name="Ada Admin"),
        "manager": users_svc.create_user(engine, "max", PASSWORD, "manager", name="Max Manager"),
        "agent": users_svc.create_user(engine, "bob", PASSWORD, "agent", name="Bob Agent"),
    }


class Browser:
    """A TestClient that signs in like a browser and keeps the page's CSRF token."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.csrf = ""

    def login(self, username: str, password: str = PASSWORD) -> None:
        page = self.client.get("/login")
        token = CSRF_RE.search(page.text).group(1)  # type: ignore[union-attr]
        resp = self.client.post(
            "/login",
            data={"username": username, "password": password, "csrf_token": token},
            follow_redirects=False,
        )
        assert resp.status_code == 303, resp.text
        self.refresh_csrf()

    def refresh_csrf(self) -> str:
        self.csrf = META_RE.search(self.client.get("/profile").text).group(1)  # type: ignore[union-attr]
        return self.csrf

    def post(self, url: str, data: dict[str, str] | None = None, **kw):  # type: ignore[no-untyped-def]
        return self.client.post(
            url, data={**(data or {}), "csrf_token": self.csrf}, follow_redirects=False, **kw
        )

    def post_json(self, url: str, json: object):  # type: ignore[no-untyped-def]
        return self.client.post(url, json=json, headers={"X-CSRF-Token": self.csrf})


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, base_url="http://testserver") as c:
        yield c


def _browser(app, username: str) -> Iterator[Browser]:  # type: ignore[no-untyped-def]
    with TestClient(app, base_url="http://testserver") as c:
        b = Browser(c)
        b.login(username)
        yield b


@pytest.fixture
def admin(app, people) -> Iterator[Browser]:  # type: ignore[no-untyped-def]
    yield from _browser(app, "ada")


@pytest.fixture
def agent(app, people) -> Iterator[Browser]:  # type: ignore[no-untyped-def]
    yield from _browser(app, "bob")


@pytest.fixture
def manager(app, people) -> Iterator[Browser]:  # type: ignore[no-untyped-def]
    yield from _browser(app, "max")
