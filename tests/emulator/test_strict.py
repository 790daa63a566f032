"""Strict mode: requests checked against one OpenAPI spec, as X's playground does."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from .helpers import inject


@pytest.fixture
def spec_dir(shared_dir: Path) -> str:
    return str(shared_dir / "reference" / "x-openapi")


def _strict(client: TestClient, version: str, spec_dir: str) -> None:
    r = client.post("/_emulator/config", json={"strict_spec": version, "spec_dir": spec_dir})
    assert r.status_code == 200, r.text


def test_2_167_refuses_tweet_names_and_accepts_post_names(client: TestClient, auth, state, spec_dir) -> None:
    inject(client, author="maria", text=f"@{state.org.username} hello")
    _strict(client, "2.167", spec_dir)
    url = f"/2/users/{state.org.id}/mentions"
    old = client.get(url, headers=auth, params={"tweet.fields": "created_at"})
    assert old.status_code == 400 and old.json()["errors"][0]["parameters"] == {
        "tweet.fields": [old.json()["errors"][0]["message"]]
    }
    expansions = client.get(url, headers=auth, params={"expansions": "referenced_tweets.id"})
    assert expansions.status_code == 400 and "invalid value 'referenced_tweets.id'" in expansions.text
    author = client.get(url, headers=auth, params={"post.fields": "author_id"})
    assert author.status_code == 400 and "'author_id'" in author.text
    ok = client.get(
        url, headers=auth, params={"post.fields": "created_at", "expansions": "author_id,referenced_posts"}
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["data"][0]["author_id"]  # the expansion brings the id 2.167's fields lack
    dm = client.get("/2/dm_events", headers=auth, params={"dm_event.fields": "sender_id,text"})
    assert dm.status_code == 400 and "'sender_id'" in dm.text
    body = client.post(
        "/2/activity/subscriptions",
        headers=auth,
        json={"event_type": "post.reply.create", "filter": {"user_id": state.org.id}},
    )
    assert body.status_code == 400 and "event_type" in body.json()["errors"][0]["parameters"]


def test_2_159_refuses_post_names(client: TestClient, auth, state, spec_dir) -> None:
    _strict(client, "2.159", spec_dir)
    url = f"/2/users/{state.org.id}/mentions"
    assert client.get(url, headers=auth, params={"post.fields": "created_at"}).status_code == 400
    assert (
        client.get(
            url, headers=auth, params={"tweet.fields": "author_id", "expansions": "referenced_tweets.id"}
        ).status_code
        == 200
    )
    assert (
        client.get("/2/dm_events", headers=auth, params={"dm_event.fields": "sender_id"}).status_code == 200
    )
    # off again at runtime
    client.post("/_emulator/config", json={"strict_spec": None})
    assert client.get(url, headers=auth, params={"post.fields": "created_at"}).status_code == 200


def test_strict_mode_needs_a_readable_spec(client: TestClient, tmp_path: Path) -> None:
    r = client.post("/_emulator/config", json={"strict_spec": "2.167", "spec_dir": str(tmp_path)})
    assert r.status_code == 400 and "openapi-2.167.json" in r.text
    assert (
        client.post("/_emulator/config", json={"strict_spec": "3.0", "spec_dir": str(tmp_path)}).status_code
        == 400
    )
