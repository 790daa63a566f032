"""The ingest write path on SQLite and PostgreSQL: exactly once, threading, echoes, cursors."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.connectors.x.parse import parse_tweet_page
from flockdesk.domain.types import CursorUpdate, DeadLetter, InboundItem
from flockdesk.services.ingest import ingestor as ingest
from flockdesk.services.ingest import write as ingest_write
from flockdesk.services.ingest.ingestor import Ingestor, latest_message_id, on_ingested
from flockdesk.store.schema import (
    contacts,
    conversations,
    dead_letters,
    messages,
    outbox,
    sources,
    sync_cursors,
)
from tests.services.ingest.builders import ORG, T0, dm, dms, mentions, tweet


def _rows(engine: Engine, table: sa.Table) -> list[Mapping[Any, Any]]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(table).order_by(table.c[list(table.c.keys())[0]])).mappings())


def _conv_of(engine: Engine) -> dict[str, int]:
    return {m["external_id"]: m["conversation_id"] for m in _rows(engine, messages)}


def _source(engine: Engine, account_id: int) -> int:
    with engine.begin() as conn:
        return int(
            conn.execute(
                sources.insert().returning(sources.c.id),
                {
                    "account_id": account_id,
                    "kind": "mentions",
                    "poll_interval_s": 60.0,
                    "created_at": T0,
                },
            ).scalar_one()
        )


def test_replayed_pages_store_each_message_once(engine: Engine, account_id: int) -> None:
    ing = Ingestor(engine)
    first = mentions(tweet("1", "200"), tweet("2", "201"), tweet("3", "202", conv="1", reply_to="1"))
    r1 = ing.ingest_page(account_id, first)
    assert (r1.inserted, r1.duplicates, r1.conversations_created) == (3, 0, 2)
    # the same page again, and an overlapping page with a duplicate inside it
    r2 = ing.ingest_page(account_id, first)
    overlap = mentions(tweet("3", "202", conv="1", reply_to="1"), tweet("4", "203"))
    r3 = Ingestor(engine).ingest_page(account_id, overlap + overlap)
    assert (r2.inserted, r2.duplicates) == (0, 3)
    assert (r3.inserted, r3.duplicates, r3.conversations_created) == (1, 3, 1)
    ids = [m["external_id"] for m in _rows(engine, messages)]
    assert sorted(ids) == ["1", "2", "3", "4"]
    assert len(_rows(engine, conversations)) == 3


def test_ingest_many_in_batches_is_exactly_once(engine: Engine, account_id: int) -> None:
    items = mentions(*[tweet(str(1000 + i), str(300 + i % 7), conv=str(1000 + i % 5)) for i in range(60)])
    ing = Ingestor(engine, batch_size=7)
    total = ing.ingest_many(account_id, items)
    again = ing.ingest_many(account_id, items)
    assert (total.inserted, total.conversations_created) == (60, 5)
    assert (again.inserted, again.duplicates) == (0, 60)
    assert latest_message_id(engine) == max(m["id"] for m in _rows(engine, messages))


def test_reply_joins_its_thread_and_dm_is_never_merged(engine: Engine, account_id: int) -> None:
    ing = Ingestor(engine)
    ing.ingest_page(account_id, mentions(tweet("50", "200", minutes=0)))
    ing.ingest_page(account_id, mentions(tweet("51", "201", conv="50", reply_to="50", minutes=1)))
    # a reply whose payload lacks conversation_id still joins the post it answers
    orphan = tweet("52", "202", reply_to="51", minutes=2)
    del orphan["conversation_id"]
    ing.ingest_page(account_id, mentions(orphan))
    # a DM whose dm_conversation_id text equals nothing public, and one from the same author
    ing.ingest_page(account_id, dms(dm("60", "200", ORG), dm("61", "200", ORG, minutes=3)))
    conv = _conv_of(engine)
    assert conv["50"] == conv["51"] == conv["52"]
    assert conv["60"] == conv["61"] != conv["50"]
    by_id = {c["id"]: c for c in _rows(engine, conversations)}
    assert by_id[conv["60"]]["kind"] == "dm"
    assert by_id[conv["60"]]["external_thread_id"] == f"{ORG}-200"
    assert by_id[conv["50"]]["kind"] == "public"
    kinds = {m["external_id"]: m["kind"] for m in _rows(engine, messages)}
    assert kinds == {"50": "mention", "51": "reply", "52": "reply", "60": "dm", "61": "dm"}


def test_dm_and_public_thread_with_same_id_stay_apart(engine: Engine, account_id: int) -> None:
    item = mentions(tweet("70", "200"))[0]
    dm_item = dms(dm("71", "200", ORG))[0]
    forged = InboundItem(**{**{f: getattr(dm_item, f) for f in dm_item.__slots__}, "thread_id": "70"})
    Ingestor(engine).ingest_page(account_id, [item, forged])
    conv = _conv_of(engine)
    assert conv["70"] != conv["71"]


def _outbox(engine: Engine, account_id: int, **values: Any) -> int:
    base = {
        "idempotency_key": values.pop("key", "k1"),
        "account_id": account_id,
        "status": "sending",
        "created_at": T0,
        "attempts": 1,
    }
    with engine.begin() as conn:
        return int(conn.execute(outbox.insert().returning(outbox.c.id), {**base, **values}).scalar_one())


def test_echo_of_org_reply_matches_outbox_and_opens_nothing(engine: Engine, account_id: int) -> None:
    ing = Ingestor(engine)
    ing.ingest_page(account_id, mentions(tweet("80", "200", "@acme my bag is lost")))
    conv_id = _conv_of(engine)["80"]
    ob = _outbox(
        engine,
        account_id,
        conversation_id=conv_id,
        kind="reply",
        text="Sorry! DM us.",
        in_reply_to_external_id="80",
    )
    echo = mentions(tweet("81", ORG, "@u200 Sorry! DM us.", conv="80", reply_to="80", minutes=5))
    r = ing.ingest_page(account_id, echo)
    assert (r.inserted, r.echoes_matched, r.conversations_created) == (1, 1, 0)
    msg = {m["external_id"]: m for m in _rows(engine, messages)}["81"]
    assert (msg["direction"], msg["kind"], msg["outbox_id"], msg["conversation_id"]) == (
        "out",
        "post",
        ob,
        conv_id,
    )
    row = _rows(engine, outbox)[0]
    assert (row["status"], row["external_id"]) == ("sent", "81")
    conv = _rows(engine, conversations)[0]
    assert conv["waiting_since"] is None and conv["first_response_at"] is not None
    # the customer answers the org's reply: same conversation, waiting again
    ing.ingest_page(account_id, mentions(tweet("82", "200", "thanks", conv="80", reply_to="81", minutes=9)))
    assert _conv_of(engine)["82"] == conv_id
    assert _rows(engine, conversations)[0]["waiting_since"] is not None
    assert len(_rows(engine, conversations)) == 1


def test_echo_matched_by_external_id_and_dm_echo(engine: Engine, account_id: int) -> None:
    ing = Ingestor(engine)
    ing.ingest_page(account_id, dms(dm("90", "200", ORG, "my email is a@b.c")))
    conv_id = _conv_of(engine)["90"]
    _outbox(
        engine,
        account_id,
        key="a",
        conversation_id=conv_id,
        kind="dm",
        text="Thanks",
        recipient_external_id="200",
    )
    r = ing.ingest_page(account_id, dms(dm("91", ORG, "200", "Thanks", minutes=1)))
    assert r.echoes_matched == 1
    ob2 = _outbox(engine, account_id, key="b", kind="reply", text="Done", status="sent", external_id="95")
    r2 = ing.ingest_page(account_id, mentions(tweet("95", ORG, "Done", conv="94", reply_to="94")))
    assert r2.echoes_matched == 1
    msgs = {m["external_id"]: m for m in _rows(engine, messages)}
    assert msgs["91"]["conversation_id"] == conv_id and msgs["91"]["kind"] == "dm"
    assert msgs["95"]["outbox_id"] == ob2
    # an own post with no conversation anywhere is kept, in a conversation that is not open
    conv = {c["id"]: c for c in _rows(engine, conversations)}[msgs["95"]["conversation_id"]]
    assert conv["status"] == "resolved"


def test_resolved_conversation_reopens_on_new_inbound(engine: Engine, account_id: int) -> None:
    ing = Ingestor(engine)
    ing.ingest_page(account_id, mentions(tweet("110", "200")))
    with engine.begin() as conn:
        conn.execute(conversations.update().values(status="resolved", waiting_since=None))
    ing.ingest_page(account_id, mentions(tweet("111", "201", conv="110", reply_to="110", minutes=3)))
    conv = _rows(engine, conversations)[0]
    assert conv["status"] == "open"
    assert conv["waiting_since"] is not None


def test_cursor_advances_only_with_its_messages(engine: Engine, account_id: int) -> None:
    source_id = _source(engine, account_id)
    ing = Ingestor(engine)
    cursor = CursorUpdate(source_id=source_id, since_id=None, pending_newest_id="120", next_token="tok1")
    dead = [DeadLetter("x:mentions", "missing text", "{}")]
    ing.ingest_page(account_id, mentions(tweet("120", "200")), cursor=cursor, dead=dead, source_id=source_id)
    assert _rows(engine, sync_cursors)[0]["next_token"] == "tok1"
    assert len(_rows(engine, dead_letters)) == 1
    # a failure after the messages were written rolls back messages, dead letters and cursor together
    original = ingest_write.write_cursor

    def boom(*args: Any, **kwargs: Any) -> None:
        original(*args, **kwargs)
        raise RuntimeError("crash after the cursor write")

    later = CursorUpdate(source_id=source_id, since_id="121", pending_newest_id=None, next_token=None)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ingest_write, "write_cursor", boom)
        with pytest.raises(RuntimeError):
            ing.ingest_page(account_id, mentions(tweet("121", "201")), cursor=later, dead=dead)
    assert [m["external_id"] for m in _rows(engine, messages)] == ["120"]
    assert _rows(engine, sync_cursors)[0]["next_token"] == "tok1"
    assert len(_rows(engine, dead_letters)) == 1
    # the retry of that page then lands exactly once
    r = ing.ingest_page(account_id, mentions(tweet("121", "201")), cursor=later)
    assert r.inserted == 1 and _rows(engine, sync_cursors)[0]["since_id"] == "121"


def test_triage_labels_stored_and_priority_is_max_of_waiting(engine: Engine, account_id: int) -> None:
    seen: list[str] = []

    def triage(items: Sequence[InboundItem]) -> list[dict[str, Any]]:
        seen.extend(i.external_id for i in items)
        return [
            {
                "intent": "complaint" if "lost" in i.text else "question",
                "sentiment": "negative",
                "sensitive": ["email"] if "@" in i.text[1:] else [],
                "move_to_dm": False,
                "urgent": False,
                "influencer": False,
                "priority": 0.9 if "lost" in i.text else 0.2,
            }
            for i in items
        ]

    ing = Ingestor(engine, triage=triage)
    ing.ingest_page(
        account_id,
        mentions(
            tweet("130", "200", "where is my order"),
            tweet("131", "201", "bag lost", conv="130", reply_to="130"),
        ),
    )
    ing.ingest_page(account_id, mentions(tweet("130", "200", "where is my order")))
    assert seen == ["130", "131"]  # duplicates are not triaged again
    msgs = {m["external_id"]: m for m in _rows(engine, messages)}
    assert msgs["131"]["intent"] == "complaint" and msgs["130"]["intent"] == "question"
    assert _rows(engine, conversations)[0]["priority"] == pytest.approx(0.9)


def test_failing_triage_still_stores_and_listeners_hear(engine: Engine, account_id: int) -> None:
    def broken(items: Sequence[InboundItem]) -> list[dict[str, Any]]:
        raise ValueError("model missing")

    heard: list[int] = []
    unsubscribe = on_ingested(lambda r: heard.append(r.inserted))
    try:
        Ingestor(engine, triage=broken).ingest_page(account_id, mentions(tweet("140", "200")))
    finally:
        unsubscribe()
    assert heard == [1]
    assert _rows(engine, messages)[0]["intent"] is None


def test_contact_profile_snapshot_is_refreshed(engine: Engine, account_id: int) -> None:
    ing = Ingestor(engine)
    p1 = {
        "data": [tweet("150", "200")],
        "includes": {"users": [{"id": "200", "username": "old", "name": "A"}]},
    }
    p2 = {
        "data": [tweet("151", "200")],
        "includes": {
            "users": [
                {"id": "200", "username": "new", "name": "A", "public_metrics": {"followers_count": 5000}}
            ]
        },
    }
    for p in (p1, p2):
        ing.ingest_page(account_id, parse_tweet_page(p, channel="mention", org_user_id=ORG).items)
    rows = [c for c in _rows(engine, contacts) if c["external_id"] == "200"]
    assert len(rows) == 1
    assert (rows[0]["username"], rows[0]["followers_count"]) == ("new", 5000)


def test_hostile_text_is_stored_verbatim_except_nul(engine: Engine, account_id: int) -> None:
    hostile = "<script>alert(1)</script> \u202egnp.exe 😩 \"'>< \x00end"
    payload = {
        "data": [tweet("160", "200", hostile)],
        "includes": {"users": [{"id": "200", "username": "x", "name": "N" * 10_000, "description": hostile}]},
    }
    Ingestor(engine).ingest_page(
        account_id, parse_tweet_page(payload, channel="mention", org_user_id=ORG).items
    )
    msg = _rows(engine, messages)[0]
    assert msg["text"] == hostile.replace("\x00", "")
    assert msg["raw"]["text"].replace("\x00", "") == hostile.replace("\x00", "")  # PostgreSQL drops NUL
    contact = [c for c in _rows(engine, contacts) if c["external_id"] == "200"][0]
    assert len(contact["name"]) == 10_000 and contact["bio"] == hostile.replace("\x00", "")


def test_concurrent_writers_store_each_message_once(engine: Engine, account_id: int) -> None:
    items = mentions(*[tweet(str(2000 + i), str(400 + i % 13), conv=str(2000 + i % 17)) for i in range(120)])
    results: list[int] = []
    errors: list[BaseException] = []

    def writer(order: list[InboundItem]) -> None:
        try:
            ing = Ingestor(engine, batch_size=30)
            results.append(ing.ingest_many(account_id, order).inserted)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [
        threading.Thread(target=writer, args=(o,)) for o in (items, items[::-1], items[40:] + items[:40])
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(results) == 120
    assert sorted(m["external_id"] for m in _rows(engine, messages)) == sorted(i.external_id for i in items)
    assert len(_rows(engine, conversations)) == 17


def test_odd_triage_output_is_normalised_not_fatal(engine: Engine, account_id: int) -> None:
    def sloppy(items: Sequence[InboundItem]) -> list[dict[str, Any]]:
        return [
            {"intent": 3, "sensitive": {"phone", "email"}, "urgent": 1, "priority": "high"} for _ in items
        ]

    Ingestor(engine, triage=sloppy).ingest_page(account_id, mentions(tweet("170", "200")))
    msg = _rows(engine, messages)[0]
    assert (msg["intent"], msg["sensitive"], msg["urgent"], msg["priority"]) == (
        None,
        ["email", "phone"],
        True,
        None,
    )


def test_planner_statistics_refreshed_after_growth(
    engine: Engine, account_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest, "ANALYZE_MIN_ROWS", 10)
    ing = Ingestor(engine)
    ing.ingest_page(account_id, mentions(*[tweet(str(3000 + i), "200") for i in range(12)]))
    if engine.dialect.name != "postgresql":
        assert ing._grown == 0 and ing._analyzed_rows == 0.0  # nothing to do on SQLite
        return
    with engine.connect() as conn:
        tuples = conn.exec_driver_sql("SELECT reltuples FROM pg_class WHERE relname = 'messages'").scalar()
    assert tuples == 12 and ing._grown == 0  # reltuples is -1 until a table is first analyzed
