"""EmulatorServer in a background thread, and the `flockdesk emulator` command's error handling."""

from __future__ import annotations

import httpx
import pytest
from typer.testing import CliRunner

from flockdesk.cli.main import app
from flockdesk.emulator import EmulatorServer


def test_server_runs_on_a_free_port_and_stops() -> None:
    with EmulatorServer(speedup=900, scenario="college", token="tok-123") as emu:
        assert emu.port != 0 and emu.base_url == f"http://127.0.0.1:{emu.port}"
        assert emu.token == "tok-123" and emu.app_bearer != emu.token
        assert emu.org_user["username"] == "OakridgeU"
        r = httpx.post(emu.base_url + "/_emulator/traffic", json={"messages": 30, "seed": 4})
        assert r.json()["messages"] == 30
        me = httpx.get(emu.base_url + "/2/users/me", headers={"Authorization": "Bearer tok-123"})
        assert me.json()["data"]["id"] == emu.org_user["id"]
        assert emu.state.stats()["posts"] + emu.state.stats()["dms"] >= 30
        base = emu.base_url
    with pytest.raises(httpx.HTTPError):
        httpx.get(base + "/_emulator/stats", timeout=1)


def test_unknown_setting_is_refused() -> None:
    with pytest.raises(TypeError):
        EmulatorServer(speeed=2)


def test_cli_refuses_bad_options_with_a_clear_message() -> None:
    runner = CliRunner()
    r = runner.invoke(app, ["emulator", "--speedup", "0"])
    assert r.exit_code == 2 and "--speedup" in r.output
    r = runner.invoke(app, ["emulator", "--scenario", "bakery"])
    assert r.exit_code == 2 and "airline" in r.output
