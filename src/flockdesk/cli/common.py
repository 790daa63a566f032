"""Options and helpers shared by the command modules."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flockdesk.settings import Settings, load_settings

DataDirOpt = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Data directory (env FLOCKDESK_DATA_DIR).", show_default=False),
]


def settings_from(data_dir: Path | None) -> Settings:
    return load_settings(data_dir=data_dir)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print a clear error that says what to do, and return the exit to raise."""
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)
