"""The control API and scenario traffic."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from flockdesk.emulator import EmulatorConfig, EmulatorState, create_app
from flockdesk.emulator.query import compile_query
from flockdesk.emulator.scenario import available, load_scenario
from tests.emulator.helpers import follow_pages


def _run(scenario: str, seed: int, calls: list[int]) -> dict:
    st = EmulatorState(EmulatorConfig(scenario=scenario, speedup=900))
    with TestClient(create_app(st)) as c:
        for n in calls:
            r = c.post("/_emulator/traffic", json={"scenario": scenario, "messages": n, "seed": seed})
            assert r.status_code == 200, r.text
            assert r.json()["messages"] == n
        return c.get("/_emulator/truth").json()


def _shape(truth: dict) -> list[tuple]:
    """Everything but ids and times, with reply links made relative so two runs compare."""
    index = {p["id"]: i for i, p in enumerate(truth["posts"])}
    posts = [
        (p["kind"], p["text"], p["author_username"], index.get(p["in_reply_to_tweet_id"]))
        for p in truth["posts"]
    ]
    dms = [(d["kind"], d["text"], d["dm_conversation_id"]) for d in truth["dms"]]
    return posts + dms


def test_scenarios_exist() -> None:
    assert {"airline", "college", "alumni"} <= set(available())
    for name in available():
        sc = load_scenario(name)
        assert sc.org.username and sc.hashtags and sc.templates["mention"]


def test_traffic_is_deterministic_with_a_seed() -> None:
    a, b = _run("airline", 5, [120, 80]), _run("airline", 5, [120, 80])
    assert _shape(a) == _shape(b)
    assert _shape(a) != _shape(_run("airline", 6, [120, 80]))


@pytest.mark.parametrize("scenario", ["airline", "college", "alumni"])
def test_traffic_structure(scenario: str) -> None:
    truth = _run(scenario, 1, [400])
    org = truth["org"]
    posts, dms = truth["posts"], truth["dms"]
    by_id = {p["id"]: p for p in posts}
    kinds = {p["kind"] for p in posts} | {d["kind"] for d in dms}
    assert {"mention", "reply", "dm", "hashtag", "name", "retweet", "spam"} <= kinds
    assert len({p["author_id"] for p in posts if not p["from_org"]}) > 40  # a varied cast
    for p in posts:
        if p["kind"] in ("hashtag", "name"):
            assert f"@{org['username']}".lower() not in p["text"].lower()
        if p["kind"] == "reply":
            parent = by_id[p["in_reply_to_tweet_id"]]
            assert p["conversation_id"] == parent["conversation_id"]
            assert p["mentions_org"]
        if p["kind"] == "retweet":
            assert p["retweeted_id"] in by_id and p["text"].startswith("RT @")
    for d in dms:
        lo, hi = sorted((int(d["sender_id"]), int(d["recipient_id"])))
        assert d["dm_conversation_id"] == f"{lo}-{hi}"
        assert org["id"] in (d["sender_id"], d["recipient_id"])
    assert any(by_id[p["in_reply_to_tweet_id"]]["from_org"] for p in posts if p["kind"] == "reply")
    assert not any("{" in x["text"] for x in posts + dms), "an unfilled template slot"
    # DMs come in bursts: some customer sends two in a row
    senders = [d["sender_id"] for d in dms]
    assert any(a == b != org["id"] for a, b in zip(senders, senders[1:], strict=False))


def test_alumni_outreach_gets_replies() -> None:
    truth = _run("alumni", 2, [200])
    outreach = {d["recipient_id"] for d in truth["dms"] if d["kind"] == "org_dm"}
    replied = {d["sender_id"] for d in truth["dms"] if d["kind"] == "dm"}
    assert len(outreach & replied) >= 10


def test_airline_has_personal_data_in_public_and_retweets_excluded_by_query(client: TestClient, auth) -> None:
    r = client.post("/_emulator/traffic", json={"scenario": "airline", "messages": 600, "seed": 3})
    ids = r.json()["ids"]
    assert len(ids) == len(set(ids)) == 600
    truth = client.get("/_emulator/truth").json()
    public = [p["text"] for p in truth["posts"] if p["kind"] in ("mention", "reply")]
    assert any(re.search(r"[\w.]+@\w+\.\w+", t) for t in public)
    query = '(#SkywardAir OR #FlySkyward OR @SkywardAir OR "Skyward") -is:retweet'
    pages = follow_pages(
        client, "/2/tweets/search/recent", auth, {"query": query, "max_results": 100}, "next_token"
    )
    got = {t["id"] for p in pages for t in p["data"]}
    matcher = compile_query(query)
    state = client.app.state.emulator
    expected = {str(i) for i in state.post_ids if matcher(state.posts[i])}
    assert got == expected
    kinds = {p["id"]: p["kind"] for p in truth["posts"]}
    assert "retweet" not in {kinds[i] for i in got}
    assert {"hashtag", "name", "mention"} <= {kinds[i] for i in got}


def test_control_shapes(client: TestClient, state) -> None:
    assert client.get("/_emulator/stats").json() == {
        "posts": 0,
        "dms": 0,
        "received_posts": 0,
        "received_dms": 0,
        "users": 1,
        "followers": 0,
        "chats": 0,
        "chat_messages": 0,
        "received_chats": 0,
        "streams_open": 0,
        "stream_connects": 0,
        "stream_events": 0,
    }
    assert client.get("/_emulator/sent").json() == {"sent": []}
    cfg = client.post("/_emulator/config", json={"speedup": 1800, "timeout_s": 0.5}).json()
    assert cfg["speedup"] == 1800 and cfg["timeout_s"] == 0.5 and "token" not in cfg
    assert client.post("/_emulator/config", json={"speedup": 0}).status_code == 400
    client.post("/_emulator/traffic", json={"messages": 20, "seed": 1})
    r = client.post("/_emulator/traffic", json={"scenario": "college", "messages": 5})
    assert r.status_code == 409 and "reset" in r.json()["detail"]
    r = client.post("/_emulator/reset", json={"scenario": "college"})
    assert r.json()["org"]["username"] == "OakridgeU"
    assert client.get("/_emulator/stats").json()["posts"] == 0
    assert client.post("/_emulator/traffic", json={"scenario": "nope", "messages": 5}).status_code == 400
    assert client.post("/_emulator/traffic", json={"messages": -1}).status_code == 400
    assert client.post("/_emulator/traffic", content=b"[1,2]").status_code == 400
    inj = client.post(
        "/_emulator/post",
        json={
            "author": {"username": "vip", "verified": True, "followers_count": 9},
            "text": "@OakridgeU hello",
        },
    ).json()
    assert inj["kind"] == "mention"
    assert (
        client.post("/_emulator/post", json={"author": "x", "text": "y", "in_reply_to": "1"}).status_code
        == 404
    )


def test_traffic_on_an_empty_emulator_switches_scenario(client: TestClient, state) -> None:
    r = client.post("/_emulator/traffic", json={"scenario": "alumni", "messages": 10, "seed": 1})
    assert r.status_code == 200
    assert state.org.username == "OakridgeAlumni"
