"""Envelopes, pagination, since_id, field selection and expansions of the read endpoints."""

from __future__ import annotations

from starlette.testclient import TestClient

from flockdesk.emulator import EmulatorState
from tests.emulator.helpers import follow_pages, inject


def _mentions_url(state: EmulatorState) -> str:
    return f"/2/users/{state.org.id}/mentions"


def test_users_me_returns_the_org_with_default_and_requested_fields(client: TestClient, auth, state) -> None:
    r = client.get("/2/users/me", headers=auth)
    assert r.status_code == 200
    assert r.json() == {"data": {"id": state.org.id, "name": state.org.name, "username": state.org.username}}
    r = client.get("/2/users/me", headers=auth, params={"user.fields": "public_metrics,verified,description"})
    data = r.json()["data"]
    assert data["verified"] is True
    assert data["public_metrics"]["followers_count"] == state.org.followers_count
    assert data["description"] == state.org.description


def test_empty_list_is_meta_only(client: TestClient, auth, state) -> None:
    r = client.get(_mentions_url(state), headers=auth)
    assert r.status_code == 200
    assert r.json() == {"meta": {"result_count": 0}}


def test_mentions_pages_yield_every_item_once_and_omit_next_token_at_the_end(client, auth, state) -> None:
    ids = [inject(client, author=f"cust{i}", text=f"@{state.org.username} help {i}")["id"] for i in range(23)]
    inject(client, author="bystander", text="no mention here #SkywardAir")
    pages = follow_pages(client, _mentions_url(state), auth, {"max_results": 5})
    assert [p["meta"]["result_count"] for p in pages] == [5, 5, 5, 5, 3]
    assert "next_token" not in pages[-1]["meta"]
    seen = [t["id"] for p in pages for t in p["data"]]
    assert seen == list(reversed(ids))  # newest first, each once
    for p in pages:
        assert p["meta"]["newest_id"] == p["data"][0]["id"]
        assert p["meta"]["oldest_id"] == p["data"][-1]["id"]


def test_since_id_returns_only_newer_items(client, auth, state) -> None:
    first = [inject(client, author="a1", text=f"@{state.org.username} one {i}")["id"] for i in range(3)]
    later = [inject(client, author="a2", text=f"@{state.org.username} two {i}")["id"] for i in range(4)]
    r = client.get(_mentions_url(state), headers=auth, params={"since_id": first[-1]})
    assert [t["id"] for t in r.json()["data"]] == list(reversed(later))
    r = client.get(_mentions_url(state), headers=auth, params={"since_id": later[-1]})
    assert r.json() == {"meta": {"result_count": 0}}
    r = client.get(_mentions_url(state), headers=auth, params={"until_id": later[0]})
    assert [t["id"] for t in r.json()["data"]] == list(reversed(first))


def test_default_fields_only_unless_requested(client, auth, state) -> None:
    text = f"@{state.org.username} my bag #lost https://example.com/x"
    root = inject(client, author="maria", text=text)
    reply = inject(
        client, author="maria", text=f"@{state.org.username} still waiting", in_reply_to=root["id"]
    )
    r = client.get(_mentions_url(state), headers=auth)
    assert set(r.json()["data"][0]) == {"id", "text", "edit_history_tweet_ids"}
    params = {
        "tweet.fields": "author_id,conversation_id,created_at,in_reply_to_user_id,referenced_tweets,entities",
        "expansions": "author_id,referenced_tweets.id",
        "user.fields": "public_metrics,description,verified",
    }
    body = client.get(_mentions_url(state), headers=auth, params=params).json()
    newest = body["data"][0]
    assert newest["id"] == reply["id"]
    assert newest["conversation_id"] == root["id"]
    assert newest["referenced_tweets"] == [{"type": "replied_to", "id": root["id"]}]
    assert newest["in_reply_to_user_id"] == root["author_id"]
    assert newest["created_at"].endswith("Z")
    ents = body["data"][1]["entities"]
    start = text.index("#lost")
    assert ents["hashtags"] == [{"start": start, "end": start + 5, "tag": "lost"}]
    assert ents["mentions"][0] == {"start": 0, "end": 11, "username": state.org.username, "id": state.org.id}
    assert ents["urls"][0]["url"] == "https://example.com/x"
    users = body["includes"]["users"]
    assert [u["username"] for u in users] == ["maria"]
    assert "followers_count" in users[0]["public_metrics"]
    assert [t["id"] for t in body["includes"]["tweets"]] == [root["id"]]


def test_post_fields_alias_is_accepted(client, auth, state) -> None:
    inject(client, author="maria", text=f"@{state.org.username} hi")
    params = {"post.fields": "author_id,edit_history_post_ids,referenced_posts"}
    r = client.get(_mentions_url(state), headers=auth, params=params)
    assert r.status_code == 200
    assert "author_id" in r.json()["data"][0]
    assert "edit_history_tweet_ids" in r.json()["data"][0]


def test_mentions_window_limits_how_far_back(client, auth, state) -> None:
    client.post("/_emulator/config", json={"mentions_window": 10})
    for i in range(15):
        inject(client, author="c", text=f"@{state.org.username} n{i}")
    pages = follow_pages(client, _mentions_url(state), auth, {"max_results": 5})
    assert sum(p["meta"]["result_count"] for p in pages) == 10


def test_bad_parameters_are_problems(client, auth, state) -> None:
    for params in (
        {"max_results": "500"},
        {"since_id": "abc"},
        {"pagination_token": "zzzz"},
        {"tweet.fields": "nonsense"},
    ):
        r = client.get(_mentions_url(state), headers=auth, params=params)
        assert r.status_code == 400, params
        assert r.headers["content-type"] == "application/problem+json"
        body = r.json()
        assert body["type"] == "https://api.twitter.com/2/problems/invalid-request"
        assert body["errors"][0]["parameters"]
    r = client.get("/2/users/123/mentions", headers=auth)
    assert r.status_code == 404
    assert r.json()["type"].endswith("resource-not-found")


def test_search_accepts_next_token_and_pagination_token(client, auth, state) -> None:
    ids = [inject(client, author=f"s{i}", text=f"loving #SkywardAir trip {i}")["id"] for i in range(25)]
    for name in ("next_token", "pagination_token"):
        pages = follow_pages(client, "/2/tweets/search/recent", auth, {"query": "#skywardair"}, name)
        assert [t["id"] for p in pages for t in p["data"]] == list(reversed(ids))
        assert [p["meta"]["result_count"] for p in pages] == [10, 10, 5]


def test_search_excludes_retweets_when_asked(client, auth, state) -> None:
    orig = inject(client, author="a", text="boarding now #SkywardAir")
    rt = inject(client, author="b", text="RT @a: boarding now #SkywardAir", retweet_of=orig["id"])
    got = client.get("/2/tweets/search/recent", headers=auth, params={"query": "#SkywardAir"}).json()
    assert {t["id"] for t in got["data"]} == {orig["id"], rt["id"]}
    got = client.get(
        "/2/tweets/search/recent", headers=auth, params={"query": "#SkywardAir -is:retweet"}
    ).json()
    assert [t["id"] for t in got["data"]] == [orig["id"]]
    r = client.get("/2/tweets/search/recent", headers=auth, params={"query": "-is:retweet"})
    assert r.status_code == 400
    assert "keyword" in r.json()["errors"][0]["message"]


def test_dm_events_hold_sent_and_received_newest_first(client, auth, state) -> None:
    a = inject(client, author="dmuser", text="hi, my booking is ABC123", dm=True)
    b = inject(client, author="dmuser", text="anyone there?", dm=True)
    user_id = state.user_by_username("dmuser").id
    r = client.post(
        f"/2/dm_conversations/with/{user_id}/messages", headers=auth, json={"text": "Hi! Looking now."}
    )
    assert r.status_code == 201
    sent = r.json()["data"]
    lo, hi = sorted((int(user_id), int(state.org.id)))
    assert sent["dm_conversation_id"] == f"{lo}-{hi}" == a["dm_conversation_id"]
    params = {"dm_event.fields": "sender_id,dm_conversation_id,created_at,entities", "max_results": 2}
    pages = follow_pages(client, "/2/dm_events", auth, params)
    events = [e for p in pages for e in p["data"]]
    assert [e["id"] for e in events] == [sent["dm_event_id"], b["id"], a["id"]]
    assert events[0]["sender_id"] == state.org.id and events[1]["sender_id"] == user_id
    assert all(e["event_type"] == "MessageCreate" for e in events)
    conv = client.get(f"/2/dm_conversations/with/{user_id}/dm_events", headers=auth).json()
    assert [e["id"] for e in conv["data"]] == [sent["dm_event_id"], b["id"], a["id"]]
    other = client.get(f"/2/dm_conversations/with/{state.org.id[:-1]}5/dm_events", headers=auth).json()
    assert other == {"meta": {"result_count": 0}}


def test_followers_pages(client, auth, state) -> None:
    r = client.post("/_emulator/followers", json={"count": 30})
    added = r.json()["added"]
    assert len(added) >= 25
    pages = follow_pages(client, f"/2/users/{state.org.id}/followers", auth, {"max_results": 10})
    got = [u["id"] for p in pages for u in p["data"]]
    assert got == list(reversed(added))
    assert "next_token" not in pages[-1]["meta"]


def test_unknown_query_parameters_are_refused_as_x_does(client, auth, state) -> None:
    r = client.get(_mentions_url(state), headers=auth, params={"next_token": "abc"})
    assert r.status_code == 400
    assert r.json()["errors"][0]["message"].startswith("The query parameter [next_token] is not one of [")


def test_dm_endpoints_by_conversation_id(client, auth, state) -> None:
    a = inject(client, author="dmuser", text="hello there", dm=True)
    conv = a["dm_conversation_id"]
    r = client.post(f"/2/dm_conversations/{conv}/messages", headers=auth, json={"text": "Hi!"})
    assert r.status_code == 201 and r.json()["data"]["dm_conversation_id"] == conv
    got = client.get(f"/2/dm_conversations/{conv}/dm_events", headers=auth).json()
    assert [e["id"] for e in got["data"]] == [r.json()["data"]["dm_event_id"], a["id"]]
    assert client.get("/2/dm_conversations/1-2/dm_events", headers=auth).status_code == 404


def test_user_tweets_are_the_users_own_posts_newest_first(client, auth, state) -> None:
    customer = inject(client, author="maria", text=f"@{state.org.username} my bag")
    own = [inject(client, from_org=True, text=f"Schedule update {i}")["id"] for i in range(7)]
    reply = inject(client, from_org=True, text="Sorry Maria, on it", in_reply_to=customer["id"])["id"]
    url = f"/2/users/{state.org.id}/tweets"
    pages = follow_pages(client, url, auth, {"max_results": 5, "tweet.fields": "referenced_tweets"})
    seen = [t["id"] for p in pages for t in p["data"]]
    assert seen == [reply, *reversed(own)]  # only the org's posts, each once
    assert pages[0]["data"][0]["referenced_tweets"] == [{"type": "replied_to", "id": customer["id"]}]
    r = client.get(url, headers=auth, params={"exclude": "replies"})
    assert reply not in [t["id"] for t in r.json()["data"]]
    r = client.get(f"/2/users/{customer['author_id']}/tweets", headers=auth)
    assert [t["id"] for t in r.json()["data"]] == [customer["id"]]
    r = client.get(url, headers=auth, params={"start_time": "2099-01-01T00:00:00Z"})
    assert r.json() == {"meta": {"result_count": 0}}
    assert client.get("/2/users/1/tweets", headers=auth).status_code == 404
