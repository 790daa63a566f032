"""A password reset and disabling a user revoke every session and API token of that user; re-enabling
revives none of them."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from flockdesk.cli.main import app as cli
from flockdesk.services.team import sessions as auth_svc
from flockdesk.services.team import users as users_svc
from flockdesk.settings import Settings
from flockdesk.store.db import make_engine, upgrade
from flockdesk.store.schema import api_tokens

from .conftest import Browser


def _get(client: TestClient, token: str) -> int:
    return client.get("/api/v1/conversations", headers={"Authorization": f"Bearer {token}"}).status_code


def test_an_admin_password_reset_revokes_the_users_api_tokens(
    admin: Browser, agent: Browser, client: TestClient, engine: Engine, people
) -> None:
    bob = people["agent"].id
    token = users_svc.create_api_token(engine, bob, "script")
    other = users_svc.create_api_token(engine, people["manager"].id, "someone else's")
    assert _get(client, token) == 200
    resp = admin.post(f"/settings/users/{bob}/password", {"password": "a brand new one"})
    assert resp.status_code == 303 and "tokens" in resp.headers["location"]
    assert _get(client, token) == 401
    assert agent.client.get("/profile", follow_redirects=False).status_code == 303
    assert _get(client, other) == 200  # only the reset user's tokens
    assert users_svc.list_api_tokens(engine, bob) == []
    with engine.connect() as conn:  # revoked, not deleted: the row stays for the audit trail
        assert conn.execute(sa.select(api_tokens.c.revoked_at).where(api_tokens.c.user_id == bob)).scalar()
    fresh = users_svc.create_api_token(engine, bob, "after the reset")
    assert _get(client, fresh) == 200


def test_disable_then_enable_revives_no_session_and_no_token(
    admin: Browser, agent: Browser, client: TestClient, engine: Engine, people
) -> None:
    bob = people["agent"].id
    token = users_svc.create_api_token(engine, bob, "script")
    assert _get(client, token) == 200
    assert admin.post(f"/settings/users/{bob}/active", {"active": "no"}).status_code == 303
    assert _get(client, token) == 401
    assert admin.post(f"/settings/users/{bob}/active", {"active": "yes"}).status_code == 303
    assert users_svc.get_user(engine, bob).active  # type: ignore[union-attr]
    assert _get(client, token) == 401
    assert agent.client.get("/profile", follow_redirects=False).status_code == 303
    agent.login("bob")  # the user signs in again and works normally
    assert agent.client.get("/profile", follow_redirects=False).status_code == 200


def test_services_revoke_on_reset_and_disable(engine: Engine) -> None:
    u = users_svc.create_user(engine, "ria", "first password", "agent")
    token = users_svc.create_api_token(engine, u.id)
    cookie, _ = auth_svc.create_session(engine, u.id)
    auth_svc.reset_password(engine, u.id, "second password")
    assert users_svc.user_for_token(engine, token) is None and auth_svc.get_session(engine, cookie) is None

    token = users_svc.create_api_token(engine, u.id)
    cookie, _ = auth_svc.create_session(engine, u.id)
    users_svc.disable_user(engine, u.id)
    users_svc.set_active(engine, u.id, True)
    assert users_svc.user_for_token(engine, token) is None and auth_svc.get_session(engine, cookie) is None
    assert users_svc.revoke_api_token(engine, u.id, 1) is False  # already revoked: nothing to do


def test_cli_set_password_and_disable_revoke_tokens(sqlite_settings: Settings) -> None:
    data = str(sqlite_settings.data_dir)
    engine = make_engine(sqlite_settings)
    upgrade(engine)
    u = users_svc.create_user(engine, "root", "first password", "admin")
    runner = CliRunner()
    token = users_svc.create_api_token(engine, u.id)
    ok = runner.invoke(
        cli, ["users", "set-password", "root", "--password", "second password", "--data-dir", data]
    )
    assert ok.exit_code == 0, ok.output
    assert users_svc.user_for_token(engine, token) is None
    token = users_svc.create_api_token(engine, u.id)
    assert runner.invoke(cli, ["users", "disable", "root", "--data-dir", data]).exit_code == 0
    assert runner.invoke(cli, ["users", "enable", "root", "--data-dir", data]).exit_code == 0
    assert users_svc.user_for_token(engine, token) is None
    assert users_svc.authenticate(engine, "root", "second password") is not None
    engine.dispose()


def test_enabling_an_active_user_keeps_their_session(engine: Engine) -> None:
    u = users_svc.create_user(engine, "ria", "first password", "agent")
    cookie, _ = auth_svc.create_session(engine, u.id)
    users_svc.set_active(engine, u.id, True)
    assert auth_svc.get_session(engine, cookie) is not None
