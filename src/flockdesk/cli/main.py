"""The `flockdesk` console script. Each command group lives in its own module and only calls services.

The root group loads command modules lazily (`LazyGroup.get_command`): `flockdesk triage` imports the
triage command alone, so a script that pipes JSONL through it does not pay for the web app's and the
emulator's imports, and each command module can keep its imports at the top. `flockdesk --help` loads
every module to list them all.
"""

from __future__ import annotations

import importlib
from typing import Any

import typer

# Typer vendors click (typer._click); its groups hold these Command and Context types, not click's.
from typer._click.core import Command, Context
from typer.core import TyperGroup

# command (first CLI word) -> the module `flockdesk.cli.<module>` whose `register(app)` adds it.
COMMANDS: dict[str, str] = {
    "db": "db",
    "accounts": "accounts",
    "sources": "sources",
    "worker": "worker",
    "status": "worker",
    "emulator": "emulator",
    "demo": "demo",
    "import": "importer",
    "label-stored": "importer",
    "stats": "stats",
    "users": "users",
    "web": "web",
    "triage": "triage",
    "check-reply": "triage",
}


def _root() -> None:
    """Flockdesk: a self-hosted desk for social customer care."""


def _load_module(module: str) -> TyperGroup:
    """The click group holding the commands that `flockdesk.cli.<module>` registers."""
    sub = typer.Typer()
    # A callback keeps `sub` a group even when the module registers a single command; without it
    # Typer collapses a lone command into the root.
    sub.callback()(_root)
    importlib.import_module(f"flockdesk.cli.{module}").register(sub)
    return typer.main.get_group(sub)


class LazyGroup(TyperGroup):
    """The root group: lists every command in COMMANDS, imports a command's module on first use."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._loaded: dict[str, TyperGroup] = {}  # module name -> its commands

    def list_commands(self, ctx: Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        module = COMMANDS.get(cmd_name)
        if module is None:
            return None
        if module not in self._loaded:
            self._loaded[module] = _load_module(module)
        command: Command | None = self._loaded[module].commands.get(cmd_name)
        return command


app = typer.Typer(
    cls=LazyGroup, help="Flockdesk: a self-hosted desk for social customer care.", no_args_is_help=True
)
app.callback()(_root)


def main() -> None:
    app()
