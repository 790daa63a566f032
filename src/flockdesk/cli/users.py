"""`flockdesk users`: add, list, disable/enable people who sign in to the web app, change roles and
reset passwords. Each change is audited with the actor "cli"."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.engine import Engine

from flockdesk.cli.common import DataDirOpt, fail, settings_from
from flockdesk.domain.errors import UserError
from flockdesk.domain.vocabulary import ROLES
from flockdesk.services.team import sessions as auth_svc
from flockdesk.services.team import users as users_svc
from flockdesk.services.team.users import User
from flockdesk.store.db import make_engine, upgrade


def register(app: typer.Typer) -> None:
    users_app = typer.Typer(help="People who sign in to the web inbox.", no_args_is_help=True)
    app.add_typer(users_app, name="users")

    @users_app.command("add")
    def add(
        username: str,
        role: Annotated[str, typer.Option("--role", help=" | ".join(ROLES))] = "agent",
        password: Annotated[
            str | None, typer.Option("--password", help="Password (8+ characters); prompted when omitted.")
        ] = None,
        name: Annotated[str, typer.Option("--name", help="Display name.")] = "",
        data_dir: DataDirOpt = None,
    ) -> None:
        """Add a user who can sign in to the web app."""

        if role not in ROLES:
            raise fail(f"--role must be one of {', '.join(ROLES)}")
        if password is None:
            password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        engine = make_engine(settings_from(data_dir))
        upgrade(engine)
        try:
            user = users_svc.create_user(engine, username, password, role, name=name)
        except UserError as exc:
            raise fail(str(exc)) from None
        typer.echo(f"added {user.username} ({user.role})")

    @users_app.command("list")
    def list_(data_dir: DataDirOpt = None) -> None:
        """List users."""

        for u in users_svc.list_users(make_engine(settings_from(data_dir))):
            typer.echo(f"{u.id}\t{u.username}\t{u.role}\t{'active' if u.active else 'disabled'}")

    @users_app.command("disable")
    def disable(username: str, data_dir: DataDirOpt = None) -> None:
        """Disable a user (signed out everywhere, API tokens revoked; they can no longer sign in)."""

        engine, user = _existing_user(data_dir, username)
        users_svc.disable_user(engine, user.id)
        typer.echo(f"disabled {username}; their sessions and API tokens were revoked")

    @users_app.command("enable")
    def enable(username: str, data_dir: DataDirOpt = None) -> None:
        """Re-enable a disabled user (they sign in again; old sessions and tokens stay revoked)."""

        engine, user = _existing_user(data_dir, username)
        users_svc.set_active(engine, user.id, True)
        typer.echo(f"enabled {username}")

    @users_app.command("set-role")
    def set_role(
        username: str,
        role: Annotated[str, typer.Argument(help="admin | manager | agent")],
        data_dir: DataDirOpt = None,
    ) -> None:
        """Change a user's role."""

        engine, user = _existing_user(data_dir, username)
        try:
            changed = users_svc.set_role(engine, user.id, role)
        except UserError as exc:
            raise fail(str(exc)) from None
        typer.echo(f"{changed.username} is now {changed.role}")

    @users_app.command("set-password")
    def set_password(
        username: str,
        password: Annotated[
            str | None,
            typer.Option("--password", help="New password (8+ characters); prompted when omitted."),
        ] = None,
        data_dir: DataDirOpt = None,
    ) -> None:
        """Reset a user's password (signs them out everywhere, revokes their API tokens and lifts a
        sign-in lockout)."""

        engine, user = _existing_user(data_dir, username)
        if password is None:
            password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
        try:
            auth_svc.reset_password(engine, user.id, password)
        except UserError as exc:
            raise fail(str(exc)) from None
        typer.echo(f"password of {user.username} reset; their sessions and API tokens were revoked")


def _existing_user(data_dir: Path | None, username: str) -> tuple[Engine, User]:
    """The migrated store and the named user, or a clear error that says how to list users."""
    engine = make_engine(settings_from(data_dir))
    upgrade(engine)
    user = users_svc.get_user_by_username(engine, username)
    if user is None:
        raise fail(f"no user named {username!r}; see `flockdesk users list`")
    return engine, user
