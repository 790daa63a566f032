"""Delivered events go through the same ingest path as polling: a message that arrives both as an
event and in a polled page is stored once, in either order; follows are recorded once per event; a
revoke marks the account for reconnection; chat events without an X Chat sink become dead letters;
and the status says live or polling with the event lag. Both stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.connectors.x import activity, parse
from flockdesk.domain.realtime import ChatEnvelope
from flockdesk.services.accounts import costs
from flockdesk.services.ingest.ingestor import Ingestor
from flockdesk.services.realtime import events, state
from flockdesk.store.schema import accounts, conversations, dead_letters, follow_events, messages
from tests.rows import add_account_row

ORG = "1000"
CUSTOMER = "2000"
NOW = datetime(2026, 8, 1, 12, 0, tzinfo=UTC)


def post(pid: str = "5001") -> dict[str, Any]:
    return {
        "id": pid,
        "text": "@acme my bag is lost",
        "author_id": CUSTOMER,
        "conversation_id": pid,
        "created_at": "2026-08-01T11:59:58.000Z",
        "entities": {"mentions": [{"start": 0, "end": 5, "username": "acme", "id": ORG}]},
    }


USER = {"id": CUSTOMER, "username": "cust", "name": "Cust", "public_metrics": {"followers_count": 3}}


def envelope(uuid: str, event_type: str, payload: dict[str, Any], includes: Any = None) -> bytes:
    data: dict[str, Any] = {
        "event_uuid": uuid,
        "filter": {"user_id": ORG},
        "event_type": event_type,
        "payload": payload,
    }
    if includes is not None:
        data["includes"] = includes
    return orjson.dumps({"data": data})


def dm_payload(dm_id: str = "7001") -> dict[str, Any]:
    return {
        "direct_message_events": [
            {
                "type": "message_create",
                "id": dm_id,
                "created_timestamp": str(int((NOW - timedelta(seconds=1)).timestamp() * 1000)),
                "message_create": {
                    "target": {"recipient_id": ORG},
                    "sender_id": CUSTOMER,
                    "message_data": {
                        "text": "hello, booking AB123",
                        "entities": {"hashtags": [], "user_mentions": [], "urls": [], "symbols": []},
                    },
                },
            }
        ],
        "users": {CUSTOMER: {"data": USER}},
    }


def dm_poll_page(dm_id: str = "7001") -> dict[str, Any]:
    return {
        "data": [
            {
                "id": dm_id,
                "event_type": "MessageCreate",
                "text": "hello, booking AB123",
                "sender_id": CUSTOMER,
                "dm_conversation_id": f"{ORG}-{CUSTOMER}",
                "created_at": "2026-08-01T11:59:59.000Z",
            }
        ],
        "includes": {"users": [USER]},
    }


def apply(engine: Engine, *lines: bytes) -> events.Applied:
    router = events.EventRouter(engine, Ingestor(engine), "x")
    parsed = [activity.parse_line(line) for line in lines]
    return router.apply([(e, NOW) for e in parsed if e is not None])


def count(engine: Engine, table: sa.Table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def message_rows(engine: Engine) -> list[tuple[str, str, str]]:
    q = sa.select(messages.c.external_id, conversations.c.kind, conversations.c.external_thread_id).join(
        conversations, conversations.c.id == messages.c.conversation_id
    )
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(q)]  # type: ignore[misc]


@pytest.mark.parametrize("stream_first", [True, False])
def test_a_post_from_the_stream_and_from_polling_is_stored_once(engine: Engine, stream_first: bool) -> None:
    account_id = add_account_row(engine, ext_id=ORG)
    line = envelope("11", "post.mention.create", post(), {"users": [USER]})
    page = parse.parse_tweet_page(
        {"data": [post()], "includes": {"users": [USER]}}, channel="mention", org_user_id=ORG
    )
    ingestor = Ingestor(engine)
    if stream_first:
        assert apply(engine, line).inserted == 1
        assert ingestor.ingest_page(account_id, page.items).inserted == 0
    else:
        assert ingestor.ingest_page(account_id, page.items).inserted == 1
        assert apply(engine, line).inserted == 0
    assert message_rows(engine) == [("5001", "public", "5001")]


@pytest.mark.parametrize("stream_first", [True, False])
def test_a_dm_from_the_stream_and_from_polling_is_stored_once(engine: Engine, stream_first: bool) -> None:
    account_id = add_account_row(engine, ext_id=ORG)
    line = envelope("12", "dm.received", dm_payload())
    page = parse.parse_dm_page(dm_poll_page(), org_user_id=ORG)
    ingestor = Ingestor(engine)
    if stream_first:
        assert apply(engine, line).inserted == 1
        ingestor.ingest_page(account_id, page.items)
    else:
        ingestor.ingest_page(account_id, page.items)
        apply(engine, line)
    assert message_rows(engine) == [("7001", "dm", f"{ORG}-{CUSTOMER}")]


def test_a_mention_that_is_also_a_reply_event_is_stored_once(engine: Engine) -> None:
    add_account_row(engine, ext_id=ORG)
    out = apply(
        engine,
        envelope("21", "post.mention.create", post("5002"), {"users": [USER]}),
        envelope("22", "post.reply.create", post("5002"), {"users": [USER]}),
        envelope("21", "post.mention.create", post("5002"), {"users": [USER]}),  # a backfilled repeat
    )
    assert out.inserted == 1 and count(engine, messages) == 1


def test_follows_are_recorded_once_per_event(engine: Engine) -> None:
    add_account_row(engine, ext_id=ORG)
    payload = {"source": {"data": USER}, "target": {"data": {"id": ORG, "username": "acme"}}}
    follow = envelope("31", "follow.follow", payload)
    out = apply(engine, follow, follow, envelope("32", "follow.unfollow", payload))
    assert out.follows == 2
    with engine.connect() as conn:
        rows = conn.execute(sa.select(follow_events.c.follower_username, follow_events.c.follows)).all()
    assert sorted(tuple(r) for r in rows) == [("cust", False), ("cust", True)]


def test_a_revoke_marks_the_account_for_reconnection(engine: Engine) -> None:
    account_id = add_account_row(engine, ext_id=ORG)
    line = orjson.dumps(
        {
            "data": {
                "event_uuid": "41",
                "filter": {},
                "event_type": "oauth.revoke",
                "payload": {"date_time": "2026-08-01T11:59:00+00:00", "user_id": ORG, "app_id": "9"},
            }
        }
    )
    assert apply(engine, line).revoked == [account_id]
    with engine.connect() as conn:
        assert conn.execute(sa.select(accounts.c.active).where(accounts.c.id == account_id)).scalar() is False
    status = state.realtime_status(engine, account_id)
    assert (
        status.needs_reconnect and status.state == "polling" and "connect the account again" in status.advice
    )


def test_chat_events_without_a_sink_are_dead_letters_and_with_one_go_to_it(engine: Engine) -> None:
    account_id = add_account_row(engine, ext_id=ORG)
    chat = envelope("51", "chat.received", {"conversation_id": f"{ORG}-{CUSTOMER}", "encoded_event": "AAAA"})
    apply(engine, chat)
    with engine.connect() as conn:
        reasons = list(conn.execute(sa.select(dead_letters.c.reason)).scalars())
    assert reasons == [events.CHAT_NOT_CONFIGURED]

    got: list[tuple[int, ChatEnvelope]] = []

    class Sink:
        def handle_chat_event(self, account_id: int, envelope: ChatEnvelope) -> None:
            got.append((account_id, envelope))

    events.register_chat_sink("x", Sink())
    try:
        assert (
            apply(engine, envelope("52", "chat.sent", {"conversation_id": "c", "encoded_event": "B"})).chats
            == 1
        )
    finally:
        events.register_chat_sink("x", None)
    assert (
        got[0][0] == account_id
        and got[0][1].event_type == "chat.sent"
        and got[0][1].payload["encoded_event"] == "B"
    )


def test_malformed_and_unknown_events_become_dead_letters(engine: Engine) -> None:
    add_account_row(engine, ext_id=ORG)
    out = apply(
        engine,
        b"{not json",
        orjson.dumps({"data": {"event_type": "post.mention.create"}}),  # no event_uuid
        envelope("61", "post.mention.create", {"id": "1"}),  # no text, no author
        envelope("62", "something.new", {"x": 1}),
        orjson.dumps(
            {
                "data": {
                    "event_uuid": "63",
                    "filter": {"user_id": "999"},
                    "event_type": "post.mention.create",
                    "payload": post("5003"),
                }
            }
        ),
    )
    assert out.inserted == 0 and count(engine, dead_letters) == 5


def test_status_is_live_while_the_stream_delivers_and_reports_the_lag(engine: Engine) -> None:
    account_id = add_account_row(engine, ext_id=ORG)
    assert state.realtime_status(engine, account_id).state == "polling"
    state.mark_connected(engine, [account_id], "stream", connected=True, now=NOW)
    apply(engine, envelope("71", "post.mention.create", post("5004"), {"users": [USER]}))  # 2 s old at NOW
    status = state.realtime_status(engine, account_id, live_window_s=90, now=NOW + timedelta(seconds=10))
    assert status.state == "live" and status.delivery == "stream"
    assert status.lag_last_ms == 2000 and status.lag_p50_ms == 2000.0 and status.lag_samples == 1
    assert state.live_accounts(engine, window_s=90, now=NOW + timedelta(seconds=10)) == {account_id}
    later = NOW + timedelta(seconds=200)  # nothing, not even a keep-alive, for longer than the window
    assert state.realtime_status(engine, account_id, live_window_s=90, now=later).state == "polling"
    state.mark_connected(engine, [account_id], "stream", connected=False, error="dropped", now=NOW)
    assert state.realtime_status(engine, account_id, now=NOW).last_error == "dropped"


def test_events_are_billed_as_delivered_once_per_resource_and_day(engine: Engine) -> None:
    account_id = add_account_row(engine, ext_id=ORG)
    follow = {"source": {"data": USER}, "target": {"data": {"id": ORG, "username": "acme"}}}
    sent = dm_payload("7002")
    sent["direct_message_events"][0]["message_create"]["sender_id"] = ORG
    sent["direct_message_events"][0]["message_create"]["target"]["recipient_id"] = CUSTOMER
    apply(
        engine,
        envelope("41", "post.mention.create", post("5003"), {"users": [USER]}),
        envelope("42", "post.reply.create", post("5003"), {"users": [USER]}),  # the same post: one read
        envelope("43", "dm.received", dm_payload("7003")),
        envelope("43", "dm.received", dm_payload("7003")),  # delivered again (backfill): not billed again
        envelope("44", "follow.follow", follow),
        envelope("45", "dm.sent", sent),  # sent events are free
    )
    by = {r["endpoint"]: r for r in costs.usage_by_endpoint(engine, today=NOW.date())}
    assert {k: v["billed"] for k, v in by.items()} == {"event_post": 1, "event_dm": 1, "event_follow": 1}
    assert by["event_post"]["items"] == 2 and by["event_dm"]["items"] == 2
    assert sum(v["cost_usd"] for v in by.values()) == pytest.approx(0.005 + 0.010 + 0.010)
    # the same post polled later that day is not billed again
    later = NOW + timedelta(minutes=5)
    assert costs.record_call(engine, account_id, "mentions", 1, resources=["post:5003"], at=later) == 0.0
