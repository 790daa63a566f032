"""The command line: accounts, sources, worker --once and status, against the emulator (SQLite)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from flockdesk.cli.main import app
from flockdesk.emulator.server import EmulatorServer


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FLOCKDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FLOCKDESK_SECRET_KEY", "cli-test-key")
    monkeypatch.delenv("FLOCKDESK_DATABASE_URL", raising=False)
    monkeypatch.setenv("FLOCKDESK_ALLOWED_API_HOSTS", "127.0.0.1")  # the emulator
    return tmp_path


def test_connect_listen_poll_and_report(env: Path) -> None:
    runner = CliRunner()
    with EmulatorServer(scenario="college", speedup=900) as emu:
        httpx.post(f"{emu.base_url}/_emulator/traffic", json={"messages": 150, "seed": 5}).raise_for_status()
        bad = runner.invoke(app, ["accounts", "add", "x", "--base-url", emu.base_url, "--token", "wrong"])
        assert bad.exit_code == 2 and "refused the token" in bad.output
        added = runner.invoke(app, ["accounts", "add", "x", "--base-url", emu.base_url, "--token", emu.token])
        assert added.exit_code == 0, added.output
        assert "@OakridgeU" in added.output and emu.token not in added.output
        listed = runner.invoke(app, ["accounts", "list"])
        assert "OakridgeU" in listed.output and emu.token not in listed.output
        refused = runner.invoke(app, ["sources", "add", "search", "#"])
        assert refused.exit_code == 2 and "nothing to match" in refused.output
        ok = runner.invoke(app, ["sources", "add", "search", "#OakridgeU OR #OakridgeBound"])
        assert ok.exit_code == 0 and "-is:retweet" in ok.output, ok.output
        polled = runner.invoke(app, ["worker", "--once"])
        assert polled.exit_code == 0, polled.output
        status = runner.invoke(app, ["status", "--json"])
        assert status.exit_code == 0, status.output
        data = json.loads(status.output)
        assert emu.token not in status.output
    assert [a["username"] for a in data["accounts"]] == ["OakridgeU"]
    kinds = {s["kind"]: s for s in data["sources"]}
    assert set(kinds) == {"mentions", "dms", "search"}
    assert all(s["last_polled_at"] and s["since_id"] for s in kinds.values())
    assert data["usage"]["calls"] >= 4 and data["usage"]["spent_usd"] > 0
    usage = {e["endpoint"]: e for e in data["usage"]["by_endpoint"]}
    # billed: the resources charged, expanded authors included (each once per UTC day)
    assert usage["dm_events"]["billed"] > 0 and usage["dm_events"]["cost_usd"] > 0
    assert {r["endpoint"] for r in data["rate_limits"]} >= {"mentions", "dm_events", "search"}
    jobs = {j["name"]: j for j in data["jobs"]}  # --once ran every periodic job and gave it back
    assert {"outbox.send", "conversations.wake_due", "monitoring.spike_check"} <= set(jobs)
    assert all(j["last_finished_at"] and j["owner"] is None for j in jobs.values())
    table = runner.invoke(app, ["status"])
    assert table.exit_code == 0 and "API usage" in table.output and "Periodic jobs" in table.output
    removed = runner.invoke(app, ["sources", "remove", str(kinds["search"]["id"])])
    assert removed.exit_code == 0
    missing = runner.invoke(app, ["sources", "remove", "999"])
    assert missing.exit_code == 2 and "sources list" in missing.output
