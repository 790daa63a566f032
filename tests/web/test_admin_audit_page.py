"""Admin actions taken on the web pages, the REST API and the command line reach the audit log with
the right actor, and the audit page shows them."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from flockdesk.cli.main import app as cli
from flockdesk.services.team import audit
from flockdesk.services.team import users as users_svc
from flockdesk.settings import Settings
from flockdesk.store.db import make_engine, upgrade

from .conftest import CSRF_RE, PASSWORD, Browser


def _actions(engine: Engine) -> list[tuple[str, str, str | None]]:
    return [(e.action, e.actor, e.target_id) for e in reversed(audit.list_events(engine, limit=1000))]


def test_web_and_api_admin_actions_are_audited_and_shown(
    admin: Browser, client: TestClient, engine: Engine, people
) -> None:
    token = CSRF_RE.search(client.get("/login").text).group(1)  # type: ignore[union-attr]
    client.post("/login", data={"username": "bob", "password": "nope nope", "csrf_token": token})
    start = len(_actions(engine))
    admin.post("/settings/users", {"username": "cleo", "name": "Cleo", "role": "agent", "password": PASSWORD})
    cleo = users_svc.get_user_by_username(engine, "cleo")
    assert cleo is not None
    resp = admin.post(f"/settings/users/{cleo.id}/role", {"role": "manager"})
    assert "notice=" in resp.headers["location"]
    assert users_svc.get_user(engine, cleo.id).role == "manager"  # type: ignore[union-attr]
    assert (
        "error="
        in admin.post(f"/settings/users/{people['admin'].id}/role", {"role": "agent"}).headers["location"]
    )
    admin.post(f"/settings/users/{cleo.id}/active", {"active": "no"})
    admin.post(f"/settings/users/{cleo.id}/active", {"active": "yes"})
    api_token = users_svc.create_api_token(engine, people["admin"].id, "admin script")
    made = client.post(
        "/api/v1/users",
        json={"username": "dan", "password": PASSWORD, "role": "agent"},
        headers={"Authorization": f"Bearer {api_token}"},
    )
    assert made.status_code == 201
    token_id = str(users_svc.list_api_tokens(engine, people["admin"].id)[0].id)
    assert _actions(engine)[start:] == [
        ("user.create", "ada", str(cleo.id)),
        ("user.role_change", "ada", str(cleo.id)),
        ("user.disable", "ada", str(cleo.id)),
        ("user.enable", "ada", str(cleo.id)),
        ("api_token.create", "ada", token_id),
        ("user.create", "ada", str(made.json()["id"])),
    ]
    page = admin.client.get("/settings/audit").text
    for shown in ("user.create", "user.role_change", "user.disable", "api_token.create", "login.failed"):
        assert shown in page, shown
    assert "login.succeeded" in page and "remote_addr" in page and "nope nope" not in page


def test_cli_admin_actions_are_audited_as_cli(sqlite_settings: Settings) -> None:
    data = str(sqlite_settings.data_dir)
    runner = CliRunner()
    for args in (
        ["users", "add", "root", "--role", "admin", "--password", PASSWORD],
        ["users", "add", "eve", "--password", PASSWORD],
        ["users", "set-role", "eve", "manager"],
        ["users", "disable", "eve"],
        ["users", "enable", "eve"],
    ):
        result = runner.invoke(cli, [*args, "--data-dir", data])
        assert result.exit_code == 0, result.output
    bad = runner.invoke(cli, ["users", "set-role", "eve", "owner", "--data-dir", data])
    assert bad.exit_code == 2 and "role must be one of" in bad.output
    engine = make_engine(sqlite_settings)
    upgrade(engine)
    assert [(a, actor) for a, actor, _ in _actions(engine)] == [
        ("user.create", "cli"),
        ("user.create", "cli"),
        ("user.role_change", "cli"),
        ("user.disable", "cli"),
        ("user.enable", "cli"),
    ]
    engine.dispose()
