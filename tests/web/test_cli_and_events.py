"""`flockdesk users` / `flockdesk web` commands, and the live-update event stream."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from typer.testing import CliRunner

from flockdesk.cli.main import app as cli
from flockdesk.jobs.worker import Worker
from flockdesk.services.conversations import actions as conv_svc
from flockdesk.services.team import users as users_svc
from flockdesk.store.db import make_engine

from .conftest import SQLITE_ONLY, Browser
from .seed import thread


def test_users_add_list_disable(sqlite_settings, tmp_path) -> None:
    data = str(sqlite_settings.data_dir)
    runner = CliRunner()
    ok = runner.invoke(
        cli, ["users", "add", "root", "--role", "admin", "--password", "long password", "--data-dir", data]
    )
    assert ok.exit_code == 0, ok.output
    assert "added root (admin)" in ok.output
    bad = runner.invoke(
        cli, ["users", "add", "x", "--role", "boss", "--password", "long password", "--data-dir", data]
    )
    assert bad.exit_code == 2 and "--role must be one of" in bad.output
    short = runner.invoke(cli, ["users", "add", "y", "--password", "short", "--data-dir", data])
    assert short.exit_code == 2 and "at least 8" in short.output
    prompted = runner.invoke(
        cli, ["users", "add", "zed", "--data-dir", data], input="another pw1\nanother pw1\n"
    )
    assert prompted.exit_code == 0, prompted.output
    listing = runner.invoke(cli, ["users", "list", "--data-dir", data])
    assert "root\tadmin\tactive" in listing.output and "zed\tagent\tactive" in listing.output
    assert runner.invoke(cli, ["users", "disable", "zed", "--data-dir", data]).exit_code == 0
    engine = make_engine(sqlite_settings.model_copy(update={"data_dir": sqlite_settings.data_dir}))
    assert users_svc.authenticate(engine, "zed", "another pw1") is None
    assert users_svc.authenticate(engine, "root", "long password") is not None


def test_web_command_is_registered() -> None:
    out = CliRunner().invoke(cli, ["web", "--help"])
    assert out.exit_code == 0 and "--port" in out.output and "--data-dir" in out.output


def test_event_stream_reports_newest_message(agent: Browser, engine) -> None:
    ids = thread(engine)
    with agent.client.stream("GET", "/events?once=1") as resp:
        assert resp.headers["content-type"].startswith("text/event-stream")
        body = "".join(resp.iter_text())
    data = json.loads(body.split("event: change\ndata: ", 1)[1].split("\n", 1)[0])
    assert data["max_message_id"] == ids["message"]


@SQLITE_ONLY
def test_event_stream_needs_sign_in(client, people) -> None:
    assert client.get("/events", follow_redirects=False).status_code == 303


def test_the_worker_reopens_a_follow_up_set_on_the_web(agent: Browser, engine, settings) -> None:
    cid = thread(engine)["conversation"]
    assert agent.post(f"/c/{cid}/follow-up").status_code == 303
    assert conv_svc.get_conversation(engine, cid).conversation.status == "snoozed"
    assert Worker(engine, settings).tick().jobs["conversations.wake_due"] == 0
    later = (datetime.now(UTC) + timedelta(hours=25)).timestamp()
    assert Worker(engine, settings, clock=lambda: later).tick().jobs["conversations.wake_due"] == 1
    assert conv_svc.get_conversation(engine, cid).conversation.status == "open"
    mine = agent.client.get("/inbox/mine").text
    assert f'data-id="{cid}"' in mine
