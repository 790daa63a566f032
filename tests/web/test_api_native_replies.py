"""REST API, Reply on X: a draft for a post the platform keeps from the API (guard and policy run on
it), its intent link, and the person's confirmation that they posted it."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa
from fastapi.testclient import TestClient

from flockdesk.services.team import users as users_svc
from flockdesk.store.schema import audit_events, messages, outbox

from .conftest import SQLITE_ONLY
from .seed import account, contact, conversation, message

TEXT = "So sorry about the delay, we're looking into it"


def _bearer(engine: Any, user_id: int) -> dict[str, str]:
    return {"Authorization": f"Bearer {users_svc.create_api_token(engine, user_id, 'test')}"}


def _world(engine: Any) -> dict[str, int]:
    acct = account(engine)
    jane = contact(engine, username="jane")
    listening = conversation(engine, acct, jane, channel="search")
    msg = message(
        engine, listening, jane, "#acme flights are late again", kind="search", mentions_account=False
    )
    mention = conversation(engine, acct, jane, channel="mention")
    message(engine, mention, jane, "@acmecare my bag is lost", mentions_account=True)
    dm = conversation(engine, acct, jane, kind="dm")
    message(engine, dm, jane, "hello", kind="dm")
    return {"listening": listening, "listening_msg": msg, "mention": mention, "dm": dm}


def _external_id(engine: Any, message_id: int) -> str:
    with engine.connect() as conn:
        return str(
            conn.execute(sa.select(messages.c.external_id).where(messages.c.id == message_id)).scalar()
        )


@SQLITE_ONLY
def test_the_native_reply_endpoints_are_in_the_openapi_document(client: TestClient) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    draft = paths["/conversations/{cid}/native-replies"]["post"]
    assert "201" in draft["responses"] and "422" in draft["responses"]
    assert "intent_link" in str(draft)
    assert "post" in paths["/conversations/{cid}/native-replies/{outbox_id}/sent"]
    assert "get" in paths["/conversations/{cid}/native-replies/{outbox_id}"]


def test_a_listening_post_gets_a_draft_with_its_intent_link_then_a_confirmation(
    client: TestClient, engine: Any, people: Any
) -> None:
    h = _bearer(engine, people["agent"].id)
    w = _world(engine)
    res = client.post(
        f"/api/v1/conversations/{w['listening']}/native-replies", json={"text": TEXT}, headers=h
    )
    assert res.status_code == 201, res.text
    body = res.json()
    assert (body["outbox"]["kind"], body["outbox"]["status"], body["confirmed"]) == (
        "native_reply",
        "awaiting_native",
        False,
    )
    query = parse_qs(urlsplit(body["intent_link"]).query)
    assert query["in_reply_to"] == [_external_id(engine, w["listening_msg"])]
    assert query["text"] == [TEXT]
    oid = body["outbox"]["id"]

    again = client.post(
        f"/api/v1/conversations/{w['listening']}/native-replies", json={"text": TEXT}, headers=h
    )
    assert again.status_code == 201 and again.json()["outbox"]["id"] == oid  # the same draft, not a second

    sent = client.post(f"/api/v1/conversations/{w['listening']}/native-replies/{oid}/sent", headers=h)
    assert sent.status_code == 200 and sent.json()["confirmed"] is True
    assert sent.json()["outbox"]["status"] == "awaiting_native"  # until the worker matches the post
    got = client.get(f"/api/v1/conversations/{w['listening']}/native-replies/{oid}", headers=h).json()
    assert got["confirmed"] is True and got["intent_link"] == body["intent_link"]
    with engine.connect() as conn:
        actions = list(conn.execute(sa.select(audit_events.c.action).order_by(audit_events.c.id)).scalars())
        rows = conn.execute(sa.select(outbox.c.kind, outbox.c.claimed_at)).all()
    assert "reply.native_draft" in actions and "reply.native_sent" in actions
    assert len(rows) == 1 and rows[0].kind == "native_reply" and rows[0].claimed_at is not None


def test_the_reply_guard_runs_on_the_draft(client: TestClient, engine: Any, people: Any) -> None:
    h = _bearer(engine, people["agent"].id)
    w = _world(engine)
    asks = "Please reply here with your card number so we can refund you"
    res = client.post(
        f"/api/v1/conversations/{w['listening']}/native-replies", json={"text": asks}, headers=h
    )
    assert res.status_code == 422 and res.json()["check"]["asks_for_sensitive"] is True
    forced = client.post(
        f"/api/v1/conversations/{w['listening']}/native-replies",
        json={"text": asks, "override_guard": True},
        headers=h,
    )
    assert forced.status_code == 201 and forced.json()["outbox"]["text"] == asks


def test_posts_that_summoned_the_account_and_dms_are_refused_with_the_reason(
    client: TestClient, engine: Any, people: Any
) -> None:
    h = _bearer(engine, people["agent"].id)
    w = _world(engine)
    mention = client.post(
        f"/api/v1/conversations/{w['mention']}/native-replies", json={"text": TEXT}, headers=h
    )
    assert mention.status_code == 422 and mention.json()["reason"] == "allowed_via_api"
    dm = client.post(f"/api/v1/conversations/{w['dm']}/native-replies", json={"text": TEXT}, headers=h)
    assert dm.status_code == 422 and dm.json()["reason"] == "wrong_channel"
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(outbox)).scalar() == 0


def test_confirming_another_conversations_row_or_an_ordinary_reply_is_not_found(
    client: TestClient, engine: Any, people: Any
) -> None:
    h = _bearer(engine, people["agent"].id)
    w = _world(engine)
    oid = client.post(
        f"/api/v1/conversations/{w['listening']}/native-replies", json={"text": TEXT}, headers=h
    ).json()["outbox"]["id"]
    assert (
        client.post(f"/api/v1/conversations/{w['mention']}/native-replies/{oid}/sent", headers=h).status_code
        == 404
    )
    reply = client.post(
        f"/api/v1/conversations/{w['mention']}/replies", json={"text": TEXT}, headers=h
    ).json()
    wrong = client.post(f"/api/v1/conversations/{w['mention']}/native-replies/{reply['id']}/sent", headers=h)
    assert wrong.status_code == 404
    assert (
        client.get(f"/api/v1/conversations/{w['listening']}/native-replies/999999", headers=h).status_code
        == 404
    )
    anon = client.post(f"/api/v1/conversations/{w['listening']}/native-replies", json={"text": "another"})
    assert anon.status_code in (401, 403)  # no token and no session: refused before anything is kept
    with engine.connect() as conn:
        kinds = sorted(conn.execute(sa.select(outbox.c.kind)).scalars())
    assert kinds == ["native_reply", "reply"]
