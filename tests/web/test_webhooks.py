"""`/webhooks/x`: the CRC challenge answered with X's HMAC, deliveries checked by signature, replays
refused by event id and age, accepted events stored by the worker's drain job. Both stores for what
is stored."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import orjson
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from flockdesk.emulator.webhooks import signature
from flockdesk.services.ingest.ingestor import Ingestor
from flockdesk.services.realtime import webhooks
from flockdesk.settings import Settings
from flockdesk.store.schema import messages
from flockdesk.web.app import create_app
from tests.rows import add_account_row

SECRET = "consumer-secret-for-tests"
ORG = "1000"


@pytest.fixture
def hook_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"x_consumer_secret": SECRET})


@pytest.fixture
def client(hook_settings: Settings, engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(hook_settings, engine), base_url="http://testserver") as c:
        yield c


def mention(uuid: str, pid: str, created: datetime | None = None) -> bytes:
    at = (created or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    payload = {"id": pid, "text": "@acme help", "author_id": "2000", "conversation_id": pid, "created_at": at}
    return orjson.dumps(
        {
            "data": {
                "event_uuid": uuid,
                "filter": {"user_id": ORG},
                "event_type": "post.mention.create",
                "payload": payload,
            }
        }
    )


def deliver(client: TestClient, body: bytes, secret: str = SECRET) -> tuple[int, dict[str, object]]:
    r = client.post(
        "/webhooks/x",
        content=body,
        headers={"content-type": "application/json", "x-twitter-webhooks-signature": signature(secret, body)},
    )
    return r.status_code, r.json()


def test_the_crc_challenge_is_answered_as_x_checks_it(client: TestClient) -> None:
    r = client.get("/webhooks/x", params={"crc_token": "abc123", "nonce": "n"})
    assert r.status_code == 200
    assert r.json() == {"response_token": signature(SECRET, b"abc123")}  # the emulator's CRC check
    assert client.get("/webhooks/x").status_code == 400


def test_without_the_consumer_secret_the_route_is_off(settings: Settings, engine: Engine) -> None:
    with TestClient(create_app(settings, engine)) as c:
        assert c.get("/webhooks/x", params={"crc_token": "a"}).status_code == 404
        assert c.post("/webhooks/x", content=b"{}").status_code == 404


def test_signed_deliveries_are_stored_once_and_replays_refused(
    client: TestClient, hook_settings: Settings, engine: Engine
) -> None:
    add_account_row(engine, ext_id=ORG)
    body = mention("e1", "5001")
    assert deliver(client, body) == (200, {"accepted": True})
    assert deliver(client, body) == (200, {"accepted": False, "reason": "already received (a replay)"})
    assert deliver(client, mention("e2", "5002"), secret="wrong")[0] == 403
    assert deliver(client, b'{"data": {}}')[0] == 400
    old = mention("e3", "5003", created=datetime.now(UTC) - timedelta(days=4))
    assert deliver(client, old) == (200, {"accepted": False, "reason": "older than the replay window"})
    assert webhooks.drain(engine, Ingestor(engine)) == 1
    assert webhooks.drain(engine, Ingestor(engine)) == 0
    with engine.connect() as conn:
        assert list(conn.execute(sa.select(messages.c.external_id)).scalars()) == ["5001"]
    assert deliver(client, body)[1]["accepted"] is False  # still refused after it was processed


def test_an_oversized_delivery_is_refused_unread(hook_settings: Settings, engine: Engine) -> None:
    small = hook_settings.model_copy(update={"max_request_body_bytes": 100})
    with TestClient(create_app(small, engine)) as c:
        assert deliver(c, mention("e9", "5009") + b" " * 200)[0] == 413
