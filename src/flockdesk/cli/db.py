"""`flockdesk db upgrade`: apply the store's migrations."""

from __future__ import annotations

import typer

from flockdesk.cli.common import DataDirOpt, settings_from
from flockdesk.store.db import current_revision, make_engine, upgrade

db_app = typer.Typer(help="Database schema management.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(data_dir: DataDirOpt = None, revision: str = "head") -> None:
    """Apply Alembic migrations up to REVISION (default: head)."""
    engine = make_engine(settings_from(data_dir))
    upgrade(engine, revision)
    typer.echo(f"database at revision {current_revision(engine)}")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
