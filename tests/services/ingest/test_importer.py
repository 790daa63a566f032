"""`flockdesk import` and `flockdesk stats --json` on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from typer.testing import CliRunner

from flockdesk.cli.main import app
from flockdesk.connectors.x.parse import iter_items_from_jsonl_line
from flockdesk.domain.types import InboundItem
from flockdesk.services.ingest.ingestor import default_triage
from flockdesk.settings import Settings
from flockdesk.store.schema import accounts, conversations, dead_letters, messages
from tests.services.ingest.builders import ORG, make_account, page, tweet

runner = CliRunner()


@pytest.fixture
def cli_env(settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    if settings.database_url:
        monkeypatch.setenv("FLOCKDESK_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("FLOCKDESK_SECRET_KEY", "test-secret-key")
    return ["--data-dir", str(settings.data_dir)]


def _stats(cli_env: list[str]) -> dict[str, Any]:
    out = runner.invoke(app, ["stats", "--json", *cli_env])
    assert out.exit_code == 0, out.output
    return dict(json.loads(out.stdout))


def test_import_skips_malformed_line_and_keeps_the_rest(
    cli_env: list[str], engine: Engine, shared_dir: Path
) -> None:
    path = shared_dir / "data" / "x-api-v2-twarc-test-data" / "streaming_output_with_error.jsonl"
    out = runner.invoke(app, ["import", str(path), *cli_env])
    assert out.exit_code == 0, out.output
    assert "line 8" in out.output and "malformed" in out.output
    expected = [orjson.loads(line)["data"]["id"] for line in path.read_bytes().splitlines()[:7]]
    with engine.connect() as conn:
        stored = sorted(conn.execute(sa.select(messages.c.external_id)).scalars())
        dead = list(conn.execute(sa.select(dead_letters)).mappings())
        acct = conn.execute(sa.select(accounts)).mappings().one()
    assert stored == sorted(expected)
    assert len(dead) == 1 and dead[0]["origin"].endswith(":8") and "line 8" in dead[0]["reason"]
    assert (acct["purpose"], acct["platform"]) == ("corporate", "x")
    assert acct["credentials_encrypted"] and b"access_token" not in acct["credentials_encrypted"]
    # a re-run changes nothing but the dead-letter record of the bad line
    again = runner.invoke(app, ["import", str(path), *cli_env])
    assert again.exit_code == 0 and "imported 0 messages (7 already stored" in again.output
    stats = _stats(cli_env)
    assert stats["messages"]["total"] == 7


def test_import_json_pages_into_an_account_and_stats(
    cli_env: list[str], engine: Engine, tmp_path: Path
) -> None:
    account_id = make_account(engine)
    pages = [
        page(
            tweet("500", "200", "@acme hi"), tweet("501", "201", "@acme me too", conv="500", reply_to="500")
        ),
        page(tweet("502", ORG, "@u200 on it", conv="500", reply_to="500", minutes=4)),
    ]
    pages[0]["data"][0]["entities"] = {"mentions": [{"start": 0, "end": 5, "username": "acme", "id": ORG}]}
    path = tmp_path / "pages.json"
    path.write_text(json.dumps(pages, indent=2))  # a pretty-printed JSON document, not JSONL
    out = runner.invoke(app, ["import", str(path), "--account-id", str(account_id), *cli_env])
    assert out.exit_code == 0, out.output
    stats = _stats(cli_env)
    assert stats["messages"] == {
        "total": 3,
        "by_kind": {"mention": 1, "reply": 1, "post": 1},
        "by_direction": {"in": 2, "out": 1},
    }
    assert stats["conversations"] == {"total": 1, "by_kind": {"public": 1}, "by_status": {"open": 1}}
    assert stats["contacts"] == 3 and stats["dead_letters"] == 0
    assert stats["outbox"] == {"total": 0, "by_status": {}}
    table = runner.invoke(app, ["stats", *cli_env])
    assert table.exit_code == 0 and "messages" in table.stdout


def test_import_clear_errors(cli_env: list[str], tmp_path: Path) -> None:
    missing = runner.invoke(app, ["import", str(tmp_path / "nope.jsonl"), *cli_env])
    assert missing.exit_code == 2 and "no such file" in missing.output
    csv = tmp_path / "export.csv"
    csv.write_text("id,text\n1,hello\n2,world\n")
    wrong = runner.invoke(app, ["import", str(csv), *cli_env])
    assert wrong.exit_code == 2 and "neither JSON nor JSONL" in wrong.output
    unknown = runner.invoke(app, ["import", str(csv), "--account-id", "999", *cli_env])
    assert unknown.exit_code == 2 and "no account with id 999" in unknown.output
    assert _stats(cli_env)["messages"]["total"] == 0


def test_import_jsonl_with_nul_in_bad_line_and_small_batches(
    cli_env: list[str], engine: Engine, tmp_path: Path
) -> None:
    good = [json.dumps(page(tweet(str(600 + i), str(200 + i)))) for i in range(5)]
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(
        ("\n".join(good[:2]) + '\n{"data": [\x00 broken\n\n' + "\n".join(good[2:]) + "\n").encode()
    )
    out = runner.invoke(app, ["import", str(path), "--batch-size", "2", *cli_env])
    assert out.exit_code == 0, out.output
    assert "line 3" in out.output
    with engine.connect() as conn:
        n = conn.execute(sa.select(sa.func.count()).select_from(messages)).scalar_one()
        dead = conn.execute(sa.select(dead_letters)).mappings().one()
    assert n == 5
    assert dead["origin"].endswith(":3") and "\\u0000 broken" in dead["payload"]


def _labels_of(engine: Engine) -> dict[str, dict[str, Any]]:
    cols = [messages.c.external_id, messages.c.direction, messages.c.intent, messages.c.sentiment]
    cols += [messages.c.sensitive, messages.c.urgent, messages.c.priority]
    with engine.connect() as conn:
        return {r["external_id"]: dict(r) for r in conn.execute(sa.select(*cols)).mappings()}


def test_import_triages_inbound_messages_like_the_worker(
    cli_env: list[str], engine: Engine, tmp_path: Path
) -> None:
    account_id = make_account(engine)
    angry = "@acme my flight was cancelled and nobody answers, terrible service, I want a refund now"
    the_page = page(
        tweet("600", "200", angry),
        tweet("601", "201", "@acme thanks, the new app is great!", minutes=1),
        tweet("602", ORG, "@u200 sorry, on it", conv="600", reply_to="600", minutes=2),
    )
    path = tmp_path / "pages.jsonl"
    path.write_bytes(orjson.dumps(the_page) + b"\n")
    out = runner.invoke(app, ["import", str(path), "--account-id", str(account_id), *cli_env])
    assert out.exit_code == 0, out.output
    stored = _labels_of(engine)
    hook = default_triage()
    assert hook is not None
    parsed = iter_items_from_jsonl_line(the_page, org_user_id=ORG, origin="test")
    items = [i for i in parsed if isinstance(i, InboundItem) and i.author_id != ORG]
    expected = {i.external_id: lab for i, lab in zip(items, hook(items), strict=True)}
    assert set(expected) == {"600", "601"}
    for ext_id, lab in expected.items():
        row = stored[ext_id]
        assert row["direction"] == "in"
        assert (row["intent"], row["sentiment"], row["urgent"]) == (
            lab["intent"],
            lab["sentiment"],
            lab["urgent"],
        )
        assert row["priority"] == pytest.approx(lab["priority"])
    assert stored["600"]["sentiment"] == "negative" and stored["601"]["sentiment"] == "positive"
    assert stored["600"]["priority"] > stored["601"]["priority"]
    assert stored["602"]["intent"] is None  # the organisation's own reply is not triaged


def test_import_no_triage_leaves_labels_empty_until_label_stored(
    cli_env: list[str], engine: Engine, tmp_path: Path
) -> None:
    account_id = make_account(engine)
    angry = "@acme terrible service, my flight was cancelled and I want a refund now"
    the_page = page(
        tweet("700", "200", angry),
        tweet("701", "201", "@acme thanks, great app!", minutes=1),
        tweet("702", ORG, "@u201 thank you!", conv="701", reply_to="701", minutes=2),
    )
    path = tmp_path / "raw.jsonl"
    path.write_bytes(orjson.dumps(the_page) + b"\n")
    out = runner.invoke(app, ["import", str(path), "--no-triage", "--account-id", str(account_id), *cli_env])
    assert out.exit_code == 0, out.output
    for row in _labels_of(engine).values():
        assert (row["intent"], row["sentiment"], row["sensitive"], row["priority"]) == (
            None,
            None,
            None,
            None,
        )
    with engine.connect() as conn:
        assert set(conn.execute(sa.select(conversations.c.priority)).scalars()) == {0.0}

    filled = runner.invoke(app, ["label-stored", *cli_env])
    assert filled.exit_code == 0 and "labelled 2 messages" in filled.output, filled.output
    # the same labels as an import with triage gives
    with_triage = tmp_path / "again.jsonl"
    copies = [{**t, "id": "9" + t["id"], "conversation_id": "9" + t["id"]} for t in the_page["data"][:2]]
    other = {**the_page, "data": copies}
    with_triage.write_bytes(orjson.dumps(other) + b"\n")
    assert (
        runner.invoke(app, ["import", str(with_triage), "--account-id", str(account_id), *cli_env]).exit_code
        == 0
    )
    stored = _labels_of(engine)
    keys = ("intent", "sentiment", "sensitive", "urgent", "priority")
    for ext_id in ("700", "701"):
        assert stored[ext_id]["intent"] is not None
        assert [stored[ext_id][k] for k in keys] == [stored["9" + ext_id][k] for k in keys]
    assert stored["702"]["intent"] is None  # our own reply stays unlabelled
    with engine.connect() as conn:
        q = sa.select(conversations.c.external_thread_id, conversations.c.priority)
        by_thread = {r[0]: r[1] for r in conn.execute(q)}
    assert by_thread["700"] == pytest.approx(stored["700"]["priority"])  # still waiting: raised
    assert by_thread["701"] == 0.0  # answered: nothing waits
    again = runner.invoke(app, ["label-stored", *cli_env])
    assert again.exit_code == 0 and "labelled 0 messages" in again.output
