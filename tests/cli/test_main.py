"""The root command group: every command listed, each module loaded only when its command runs."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from flockdesk.cli.main import COMMANDS, _load_module, app


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for name in COMMANDS:
        assert name in result.output


def test_every_registered_command_is_in_the_table() -> None:
    registered = {name for module in set(COMMANDS.values()) for name in _load_module(module).commands}
    assert registered == set(COMMANDS)


def test_unknown_command_is_refused() -> None:
    result = CliRunner().invoke(app, ["nope"])
    assert result.exit_code != 0
    assert "No such command" in result.output


def test_triage_does_not_load_the_web_stack() -> None:
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from flockdesk.cli.main import app\n"
        'r = CliRunner().invoke(app, [\'triage\'], input=\'{"id": "1", "text": "refund please"}\\n\')\n'
        "assert r.exit_code == 0, r.output\n"
        'assert \'"id": "1"\' in r.output or \'"id":"1"\' in r.output, r.output\n'
        "loaded = [m for m in ('fastapi', 'uvicorn', 'flockdesk.web', 'flockdesk.emulator') if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
