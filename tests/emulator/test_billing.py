"""The emulator's ledger of what X would charge (emulator/billing.py)."""

from __future__ import annotations

import time

from starlette.testclient import TestClient

from flockdesk.emulator import EmulatorState
from flockdesk.emulator.billing import Ledger

from .helpers import inject


def _billing(client: TestClient) -> dict:
    return client.get("/_emulator/stats", params={"billing": 1}).json()["billing"]


def test_same_resource_twice_a_day_is_billed_once_and_owned_reads_are_cheap(
    client: TestClient, auth, state: EmulatorState
) -> None:
    for i in range(3):
        inject(client, author=f"fan{i}", text=f"@{state.org.username} hello #SkywardAir {i}")
    assert _billing(client) == {"total_usd": 0.0, "by_kind": {}, "items": 0}
    mentions = f"/2/users/{state.org.id}/mentions"
    for _ in range(2):  # polled twice: the same three posts
        assert client.get(mentions, headers=auth).status_code == 200
    bill = _billing(client)
    assert bill["by_kind"] == {"owned_read": {"count": 3, "usd": 0.003}} and bill["items"] == 3
    # the same posts through search: already billed today
    client.get("/2/tweets/search/recent", headers=auth, params={"query": "#SkywardAir"})
    assert _billing(client)["items"] == 3
    # a post read that is not owned, with its author expanded
    inject(client, author="solo", text="#SkywardAir is late")
    client.get("/2/tweets/search/recent", headers=auth, params={"query": "late", "expansions": "author_id"})
    by_kind = _billing(client)["by_kind"]
    assert by_kind["post_read"] == {"count": 1, "usd": 0.005}
    assert by_kind["user_read"] == {"count": 1, "usd": 0.01}


def test_writes_and_dm_reads(client: TestClient, auth, state: EmulatorState) -> None:
    mention = inject(client, author="maria", text=f"@{state.org.username} help")
    inject(client, author="maria", text="my ref ABC123", dm=True)
    client.post("/2/tweets", headers=auth, json={"text": "News!"})
    client.post("/2/tweets", headers=auth, json={"text": "See https://example.com/x"})
    client.post("/2/tweets", headers=auth, json={"text": "Or WWW.example.com/y"})  # a bare link too
    client.post(
        "/2/tweets", headers=auth, json={"text": "On it", "reply": {"in_reply_to_tweet_id": mention["id"]}}
    )
    client.post(
        f"/2/dm_conversations/with/{mention['author_id']}/messages", headers=auth, json={"text": "Hi"}
    )
    for _ in range(2):
        client.get("/2/dm_events", headers=auth)
    by_kind = _billing(client)["by_kind"]
    assert by_kind["post_create"] == {"count": 1, "usd": 0.015}
    assert by_kind["post_create_url"] == {"count": 2, "usd": 0.4}
    assert by_kind["summoned_reply"] == {"count": 1, "usd": 0.01}
    assert by_kind["dm_create"] == {"count": 1, "usd": 0.015}
    assert by_kind["dm_event_read"] == {"count": 2, "usd": 0.02}  # two DM events, each billed once


def test_a_new_utc_day_bills_again() -> None:
    ledger = Ledger()
    day = 86400 * 20_000
    assert ledger.charge("post_read", "post:1", at=day + 10)
    assert not ledger.charge("post_read", "post:1", at=day + 86000)
    assert ledger.charge("post_read", "post:1", at=day + 86400)
    assert ledger.snapshot()["total_usd"] == 0.01
    assert ledger.charge("dm_create", "write:5", at=time.time(), dedupe=False)
