"""The `flockdesk` console script. Each command group lives in its own module and only calls services.

Command modules are imported only when needed: `flockdesk triage` imports the triage command alone, so a
script that pipes JSONL through it does not pay for the web app's and the emulator's imports.
`from flockdesk.cli.main import app` (tests, plugins) gives the app with every command registered.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import typer

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
    "stats": "stats",
    "users": "users",
    "web": "web",
    "triage": "triage",
    "check-reply": "triage",
}
COMMAND_MODULES = list(dict.fromkeys(COMMANDS.values()))


def _root() -> None:
    """Flockdesk: a self-hosted desk for social customer care."""


def build_app(modules: list[str] | None = None) -> typer.Typer:
    app = typer.Typer(help="Flockdesk: a self-hosted desk for social customer care.", no_args_is_help=True)
    # A callback keeps `app` a command group even when only one module is registered (main() below);
    # without it Typer collapses a lone command into the root and `flockdesk web` fails. (helper E)
    app.callback()(_root)
    for name in modules if modules is not None else COMMAND_MODULES:
        importlib.import_module(f"flockdesk.cli.{name}").register(app)
    return app


def __getattr__(name: str) -> Any:
    if name == "app":
        full = build_app()
        globals()["app"] = full
        return full
    raise AttributeError(name)


def main() -> None:
    words = [a for a in sys.argv[1:] if not a.startswith("-")]
    module = COMMANDS.get(words[0]) if words else None
    build_app([module] if module else None)()
