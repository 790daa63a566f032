"""A send whose answer was lost (the post landed on X, the response never came): the outbox finds the
post among the account's own posts instead of calling it failed, and a Retry never posts it twice.
Against the emulator's `lost_response` fault; the emulator's ground truth counts the posts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.connectors.base import CallRecord
from flockdesk.connectors.x.client import XClient
from flockdesk.emulator.server import EmulatorServer
from flockdesk.services.replies import outbox
from flockdesk.store.schema import messages
from flockdesk.store.schema import outbox as outbox_t
from tests.rows import add_account_row, add_conversation_row


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorServer]:
    with EmulatorServer(scenario="airline", speedup=900) as server:
        yield server


@pytest.fixture
def world(emu: EmulatorServer, engine: Engine) -> dict[str, Any]:
    httpx.post(f"{emu.base_url}/_emulator/reset", json={}).raise_for_status()
    org = emu.org_user
    post = httpx.post(
        f"{emu.base_url}/_emulator/post",
        json={"author": "maria", "text": f"@{org['username']} my bag is lost"},
    ).json()
    account = add_account_row(engine, ext_id=org["id"], username=org["username"])
    return {
        "account": account,
        "post": post,
        "public": add_conversation_row(engine, account, "public", post["conversation_id"]),
        "dm": add_conversation_row(engine, account, "dm", f"{org['id']}-{post['author_id']}"),
    }


def _lose_answers(emu: EmulatorServer, on: bool) -> None:
    body = {"rate": 1.0, "kinds": ["lost_response"]} if on else {"rate": 0}
    httpx.post(f"{emu.base_url}/_emulator/faults", json=body).raise_for_status()


def _connector(emu: EmulatorServer, calls: list[CallRecord]) -> Any:
    client = XClient(emu.base_url, emu.token, org_user_id=emu.org_user["id"], on_call=calls.append)
    return lambda _account_id: client


def _sent_by_us(emu: EmulatorServer) -> list[dict[str, Any]]:
    truth = httpx.get(f"{emu.base_url}/_emulator/truth").json()
    return [p for p in truth["posts"] + truth["dms"] if p["sent_by_client"]]


def _row(engine: Engine, outbox_id: int) -> sa.RowMapping:
    with engine.connect() as conn:
        return conn.execute(sa.select(outbox_t).where(outbox_t.c.id == outbox_id)).mappings().one()


def _reply(engine: Engine, w: dict[str, Any], text: str = "So sorry Maria, we are tracing your bag") -> int:
    return outbox.enqueue(
        engine,
        account_id=w["account"],
        kind="reply",
        text=text,
        conversation_id=w["public"],
        in_reply_to=w["post"]["id"],
    )


def _send_with_lost_answer(emu: EmulatorServer, engine: Engine, connector_for: Any) -> None:
    _lose_answers(emu, True)
    try:
        report = outbox.send_pending(engine, connector_for)
    finally:
        _lose_answers(emu, False)
    assert report.in_doubt == 1  # the post landed, the answer was lost: the row waits in 'sending'


def test_an_in_flight_post_found_on_x_is_sent_not_failed(emu: EmulatorServer, engine: Engine, world) -> None:
    calls: list[CallRecord] = []
    connector_for = _connector(emu, calls)
    oid = _reply(engine, world)
    _send_with_lost_answer(emu, engine, connector_for)
    assert _row(engine, oid)["status"] == "sending"
    report = outbox.send_pending(engine, connector_for, grace_s=0)  # the grace period is over
    landed = _sent_by_us(emu)
    assert len(landed) == 1
    row = _row(engine, oid)
    assert (report.found_sent, report.interrupted) == (1, 0)
    assert row["status"] == "sent" and row["external_id"] == landed[0]["id"] and row["error"] is None
    with engine.connect() as conn:
        attached = conn.execute(
            sa.select(messages.c.conversation_id, messages.c.direction).where(messages.c.outbox_id == oid)
        ).all()
    assert [tuple(a) for a in attached] == [(world["public"], "out")]
    assert [c.endpoint for c in calls] == ["post_create", "own_posts"]
    assert outbox.send_pending(engine, connector_for, grace_s=0).sent == 0
    assert len(_sent_by_us(emu)) == 1


def test_retry_of_an_interrupted_post_that_landed_posts_nothing(
    emu: EmulatorServer, engine: Engine, world
) -> None:
    calls: list[CallRecord] = []
    connector_for = _connector(emu, calls)
    oid = _reply(engine, world)
    _send_with_lost_answer(emu, engine, connector_for)
    # the worker that settled it could not read X back (an older worker, an outage): it failed
    assert outbox.reconcile_interrupted(engine, grace_s=0) == 1
    assert _row(engine, oid)["error"] == outbox.interrupted("X")
    retry_id = outbox.retry(engine, oid)
    report = outbox.send_pending(engine, connector_for)
    landed = _sent_by_us(emu)
    assert len(landed) == 1  # one post on X, not two
    retry = _row(engine, retry_id)
    assert report.sent == 1 and retry["status"] == "sent" and retry["external_id"] == landed[0]["id"]
    assert calls[-1].endpoint == "own_posts"


def test_retry_posts_when_the_interrupted_attempt_never_landed(
    emu: EmulatorServer, engine: Engine, world
) -> None:
    calls: list[CallRecord] = []
    connector_for = _connector(emu, calls)
    oid = _reply(engine, world)
    assert outbox.claim_next(engine) is not None  # the worker died before the request left
    assert outbox.send_pending(engine, connector_for, grace_s=0).interrupted == 1
    assert _row(engine, oid)["status"] == "failed" and _sent_by_us(emu) == []
    retry_id = outbox.retry(engine, oid)
    outbox.send_pending(engine, connector_for)
    assert _row(engine, retry_id)["status"] == "sent"
    assert len(_sent_by_us(emu)) == 1
    assert [c.endpoint for c in calls] == ["own_posts", "own_posts", "post_create"]


def test_a_post_with_the_same_text_elsewhere_or_already_attached_is_not_taken(
    emu: EmulatorServer, engine: Engine, world
) -> None:
    connector_for = _connector(emu, [])
    text = "Thanks for your patience"
    other = httpx.post(
        f"{emu.base_url}/_emulator/post",
        json={"author": "omar", "text": f"@{emu.org_user['username']} hello"},
    ).json()
    # the same words, in another thread: not this row's post
    httpx.post(
        f"{emu.base_url}/_emulator/post", json={"from_org": True, "text": text, "in_reply_to": other["id"]}
    ).raise_for_status()
    first = _reply(engine, world, text)
    outbox.send_pending(engine, connector_for)
    assert _row(engine, first)["status"] == "sent"
    # a second, interrupted row with the same text to the same post: the first row's post is taken
    second = outbox.enqueue(
        engine,
        account_id=world["account"],
        kind="reply",
        text=text,
        conversation_id=world["public"],
        in_reply_to=world["post"]["id"],
        idempotency_key="second",
    )
    assert outbox.claim_next(engine) is not None
    outbox.send_pending(engine, connector_for, grace_s=0)
    assert _row(engine, second)["status"] == "failed"


def test_an_in_flight_dm_found_on_x_is_sent(emu: EmulatorServer, engine: Engine, world) -> None:
    connector_for = _connector(emu, [])
    oid = outbox.enqueue(
        engine,
        account_id=world["account"],
        kind="dm",
        text="Could you send us your booking reference?",
        conversation_id=world["dm"],
        recipient=world["post"]["author_id"],
    )
    _send_with_lost_answer(emu, engine, connector_for)
    outbox.send_pending(engine, connector_for, grace_s=0)
    landed = _sent_by_us(emu)
    assert len(landed) == 1 and _row(engine, oid)["external_id"] == landed[0]["id"]
    assert _row(engine, oid)["status"] == "sent"
