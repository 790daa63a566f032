"""Resetting a password: the admin's action on the users page and `flockdesk users set-password`."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from flockdesk.cli.main import app as cli
from flockdesk.services.team import users as users_svc
from flockdesk.store.db import make_engine
from flockdesk.store.schema import audit_events

from .conftest import CSRF_RE, PASSWORD, Browser


def _login(client: TestClient, username: str, password: str) -> int:
    token = CSRF_RE.search(client.get("/login").text).group(1)  # type: ignore[union-attr]
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        follow_redirects=False,
    ).status_code


def test_admin_resets_a_locked_out_password(admin: Browser, client: TestClient, engine, people) -> None:
    for _ in range(5):
        assert _login(client, "bob", "wrong password") == 401
    assert _login(client, "bob", PASSWORD) == 429
    page = admin.client.get("/settings/users").text
    assert f'action="/settings/users/{people["agent"].id}/password"' in page and "Reset password" in page
    resp = admin.post(f"/settings/users/{people['agent'].id}/password", {"password": "brand new secret"})
    assert resp.status_code == 303 and "notice=" in resp.headers["location"]
    assert _login(client, "bob", PASSWORD) == 401  # the old password no longer works, and no lockout
    assert _login(client, "bob", "brand new secret") == 303
    with engine.connect() as conn:
        ev = conn.execute(sa.select(audit_events).where(audit_events.c.action == "user.password_reset")).one()
    assert ev.actor == "ada" and ev.target_id == str(people["agent"].id)
    assert "brand new secret" not in str(ev.details)


def test_reset_signs_the_user_out_and_needs_admin_and_csrf(
    admin: Browser, agent: Browser, manager: Browser, people
) -> None:
    target = f"/settings/users/{people['agent'].id}/password"
    assert manager.post(target, {"password": "managers cannot"}).status_code == 403
    no_csrf = admin.client.post(target, data={"password": "no token here"}, follow_redirects=False)
    assert no_csrf.status_code == 403
    short = admin.post(target, {"password": "short"})
    assert "error=" in short.headers["location"] and "8" in short.headers["location"]
    assert agent.client.get("/profile", follow_redirects=False).status_code == 200  # still signed in
    admin.post(target, {"password": "a good new one"})
    assert agent.client.get("/profile", follow_redirects=False).status_code == 303  # sessions ended
    assert users_svc.authenticate(admin.client.app.state.web.engine, "bob", "a good new one") is not None


def test_cli_set_password(sqlite_settings) -> None:
    data = str(sqlite_settings.data_dir)
    runner = CliRunner()
    assert (
        runner.invoke(
            cli, ["users", "add", "root", "--password", "first password", "--data-dir", data]
        ).exit_code
        == 0
    )
    ok = runner.invoke(
        cli, ["users", "set-password", "root", "--password", "second password", "--data-dir", data]
    )
    assert ok.exit_code == 0 and "reset" in ok.output
    prompted = runner.invoke(
        cli, ["users", "set-password", "root", "--data-dir", data], input="third password\nthird password\n"
    )
    assert prompted.exit_code == 0, prompted.output
    short = runner.invoke(cli, ["users", "set-password", "root", "--password", "tiny", "--data-dir", data])
    assert short.exit_code == 2 and "at least 8" in short.output
    missing = runner.invoke(
        cli, ["users", "set-password", "ghost", "--password", "whatever123", "--data-dir", data]
    )
    assert missing.exit_code == 2 and "users list" in missing.output
    engine = make_engine(sqlite_settings)
    assert users_svc.authenticate(engine, "root", "third password") is not None
    assert users_svc.authenticate(engine, "root", "second password") is None
    with engine.connect() as conn:
        actors = (
            conn.execute(
                sa.select(audit_events.c.actor).where(audit_events.c.action == "user.password_reset")
            )
            .scalars()
            .all()
        )
    assert actors == ["cli", "cli"]
