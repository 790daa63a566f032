"""Hostile archives and pages: an over-nested item, malformed first lines, a huge post. Bad items become
dead letters with the reason; every good line is kept; text is capped; the poll path moves on."""

from __future__ import annotations

import json
import threading
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.connectors.base import FetchedPage
from flockdesk.connectors.x.parse import parse_dm_page, parse_tweet_page
from flockdesk.domain.limits import MAX_NESTING, MAX_TEXT_CHARS
from flockdesk.jobs.pacing import Pacer
from flockdesk.jobs.sweep import Sweeper, load_cursor
from flockdesk.services.ingest.importer import ImportFormatError, import_file
from flockdesk.services.ingest.ingestor import Ingestor
from flockdesk.store.schema import dead_letters, messages, sources
from tests.services.ingest.builders import ORG, page, tweet


def _nested(levels: int) -> dict[str, Any]:
    root: dict[str, Any] = {}
    node = root
    for _ in range(levels):
        node["a"] = {}
        node = node["a"]
    return root


def _deep_tweet(tid: str, levels: int = 300) -> dict[str, Any]:
    t = tweet(tid, "200", "@acme look at this")
    t["entities"] = _nested(levels)
    return t


def _stored(engine: Engine) -> tuple[list[str], list[sa.RowMapping]]:
    with engine.connect() as conn:
        ids = sorted(conn.execute(sa.select(messages.c.external_id)).scalars())
        dead = list(conn.execute(sa.select(dead_letters).order_by(dead_letters.c.id)).mappings())
    return ids, dead


def _write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines))
    return path


def test_one_over_nested_item_is_a_dead_letter_and_the_200_good_lines_are_stored(
    engine: Engine, account_id: int, tmp_path: Path
) -> None:
    good = [json.dumps(page(tweet(str(1000 + i), "200", f"@acme hello {i}"))) for i in range(200)]
    path = _write_lines(
        tmp_path / "a.jsonl", [*good[:100], json.dumps(page(_deep_tweet("9999"))), *good[100:]]
    )
    report = import_file(engine, path, account_id, triage=False)
    ids, dead = _stored(engine)
    assert len(ids) == 200 and "9999" not in ids
    assert len(dead) == 1 and dead[0]["origin"].endswith(":101")
    assert f"nested deeper than {MAX_NESTING} levels" in dead[0]["reason"]
    assert "9999" in dead[0]["payload"]  # the item is kept, pruned, for whoever looks into it
    assert report.lines == 201 and report.result is not None and report.result.inserted == 200


def test_malformed_first_lines_become_dead_letters_and_the_rest_is_stored(
    engine: Engine, account_id: int, tmp_path: Path
) -> None:
    bad = [f'{{"data": [{{"id": "{i}", oops' for i in range(10)]
    good = [json.dumps(page(tweet(str(2000 + i), "200"))) for i in range(10)]
    report = import_file(engine, _write_lines(tmp_path / "b.jsonl", bad + good), account_id, triage=False)
    ids, dead = _stored(engine)
    assert ids == [str(2000 + i) for i in range(10)]
    assert [d["reason"].split(":")[0] for d in dead] == [f"line {n}" for n in range(1, 11)]
    assert all("malformed JSON" in d["reason"] for d in dead)
    assert [n for n, _ in report.bad_lines] == list(range(1, 11))


def test_a_file_that_is_neither_json_nor_jsonl_is_refused_and_nothing_is_stored(
    engine: Engine, account_id: int, tmp_path: Path
) -> None:
    path = _write_lines(tmp_path / "c.jsonl", ["id,text", "1,hello", '{"data": [ broken', "2,world"])
    with pytest.raises(ImportFormatError, match="neither JSON nor JSONL"):
        import_file(engine, path, account_id, triage=False)
    assert _stored(engine) == ([], [])


def test_a_huge_post_is_stored_truncated_with_a_dead_letter_and_bounded_memory(
    engine: Engine, account_id: int, tmp_path: Path
) -> None:
    huge = tweet("3000", "200", "@acme " + "x" * 50_000_000)
    path = _write_lines(
        tmp_path / "d.jsonl", [json.dumps(page(huge)), json.dumps(page(tweet("3001", "200")))]
    )
    del huge
    tracemalloc.start()
    try:
        import_file(engine, path, account_id, triage=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # a sanity bound, not a benchmark: the line itself is 50 MB; 4.3 GB was the defect
    assert peak < 500_000_000
    with engine.connect() as conn:
        texts = dict(conn.execute(sa.select(messages.c.external_id, messages.c.text)).all())
        raw = conn.execute(sa.select(messages.c.raw).where(messages.c.external_id == "3000")).scalar_one()
    assert len(texts["3000"]) == MAX_TEXT_CHARS and texts["3000"].startswith("@acme xxx")
    assert "3001" in texts
    assert len(raw["text"]) == MAX_TEXT_CHARS
    _, dead = _stored(engine)
    assert len(dead) == 1 and "50,000,006 characters stored truncated to 25,000" in dead[0]["reason"]
    assert len(dead[0]["payload"]) <= 100_000


def test_an_item_whose_json_is_too_big_is_a_dead_letter() -> None:
    big = tweet("4000", "200")
    big["entities"] = {"urls": [{"url": "https://e.com/" + "y" * 1000} for _ in range(1500)]}
    parsed = parse_tweet_page(page(big, tweet("4001", "200")), channel="mention", org_user_id=ORG)
    assert [i.external_id for i in parsed.items] == ["4001"]
    assert len(parsed.dead) == 1 and "over the 1,000,000-byte limit" in parsed.dead[0].reason


def test_over_nested_dm_events_and_profiles_are_kept_out() -> None:
    deep_user = {"id": "200", "username": "u200", "name": "x", "profile": _nested(300)}
    events = {
        "data": [
            {"id": "1", "event_type": "MessageCreate", "text": "hi", "sender_id": "200",
             "dm_conversation_id": "100-200", "created_at": "2026-11-01T12:00:00.000Z"},
            {"id": "2", "event_type": "MessageCreate", "text": "deep", "sender_id": "200",
             "dm_conversation_id": "100-200", "created_at": "2026-11-01T12:00:00.000Z",
             "attachments": _nested(300)},
        ],
        "includes": {"users": [deep_user]},
    }  # fmt: skip
    parsed = parse_dm_page(events, org_user_id=ORG)
    assert [i.external_id for i in parsed.items] == ["1"] and parsed.items[0].author is None
    assert len(parsed.dead) == 1 and "nested deeper" in parsed.dead[0].reason


class _PageConnector:
    """Serves one raw mentions page through the real parser, as the X client does."""

    def __init__(self, payload: dict[str, Any]) -> None:
        self.payload = payload

    def fetch_mentions(
        self, user_id: str, *, since_id: str | None = None, pagination_token: str | None = None
    ) -> FetchedPage:
        return FetchedPage(parse_tweet_page(self.payload, channel="mention", org_user_id=user_id))


def test_a_polled_page_with_an_over_nested_item_stores_the_rest_and_moves_on(
    engine: Engine, account_id: int
) -> None:
    payload = page(tweet("5001", "200"), _deep_tweet("5002"), tweet("5003", "201"))
    payload["meta"]["newest_id"] = "5003"
    with engine.begin() as conn:
        sid = conn.execute(
            sources.insert()
            .values(
                account_id=account_id,
                kind="mentions",
                enabled=True,
                poll_interval_s=60.0,
                created_at=datetime.now(UTC),
            )
            .returning(sources.c.id)
        ).scalar_one()
        source = conn.execute(sa.select(sources).where(sources.c.id == sid)).mappings().one()
    sweeper = Sweeper(engine, Ingestor(engine), Pacer(), stop=threading.Event(), clock=time.time)
    out = sweeper.sweep(source, ORG, _PageConnector(payload))
    ids, dead = _stored(engine)
    assert out.state == "done" and ids == ["5001", "5003"]
    assert len(dead) == 1 and "nested deeper" in dead[0]["reason"]
    assert load_cursor(engine, sid)[0] == "5003"  # the next poll starts after the page
