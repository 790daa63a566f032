"""POST /2/tweets and POST DM: replies thread, the reply restriction, and what the control API records."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.emulator.helpers import inject


def test_reply_joins_the_parents_conversation_and_is_recorded(client: TestClient, auth, state) -> None:
    root = inject(client, author="maria", text=f"@{state.org.username} lost my bag")
    reply = inject(client, author="maria", text=f"@{state.org.username} still lost", in_reply_to=root["id"])
    body = {
        "text": "So sorry, Maria! Please DM us.",
        "reply": {"in_reply_to_tweet_id": reply["id"]},
        "direct_message_deep_link": f"https://x.com/messages/compose?recipient_id={state.org.id}",
    }
    r = client.post("/2/tweets", headers=auth, json=body)
    assert r.status_code == 201
    data = r.json()["data"]
    assert set(data) == {"id", "text"} and data["text"] == body["text"]
    assert int(data["id"]) > int(reply["id"])
    post = state.posts[int(data["id"])]
    assert post.conversation_id == int(root["id"])
    assert post.in_reply_to_tweet_id == int(reply["id"])
    sent = client.get("/_emulator/sent").json()["sent"]
    assert sent == [
        {
            "id": data["id"],
            "kind": "post",
            "text": body["text"],
            "created_at": post.created_at,
            "in_reply_to_tweet_id": reply["id"],
            "recipient_id": None,
            "dm_conversation_id": None,
            "direct_message_deep_link": body["direct_message_deep_link"],
        }
    ]
    stats = client.get("/_emulator/stats").json()
    assert (stats["received_posts"], stats["received_dms"]) == (1, 0)


def test_org_reply_comes_back_by_search_in_its_conversation(client: TestClient, auth, state) -> None:
    root = inject(client, author="maria", text=f"@{state.org.username} help")
    r = client.post(
        "/2/tweets", headers=auth, json={"text": "On it!", "reply": {"in_reply_to_tweet_id": root["id"]}}
    )
    got = client.get(
        "/2/tweets/search/recent",
        headers=auth,
        params={"query": f"from:{state.org.username}", "tweet.fields": "conversation_id,author_id"},
    )
    assert got.json()["data"] == [
        {
            "id": r.json()["data"]["id"],
            "text": "On it!",
            "conversation_id": root["id"],
            "author_id": state.org.id,
            "edit_history_tweet_ids": [r.json()["data"]["id"]],
        }
    ]


def test_reply_restriction_blocks_unsummoned_replies_and_can_be_turned_off(
    client: TestClient, auth, state
) -> None:
    post = inject(client, author="bystander", text="nice flight today #SkywardAir")
    body = {"text": "Thanks for flying with us!", "reply": {"in_reply_to_tweet_id": post["id"]}}
    r = client.post("/2/tweets", headers=auth, json=body)
    assert r.status_code == 403
    assert r.headers["content-type"] == "application/problem+json"
    assert "mentioned" in r.json()["detail"]
    client.post("/_emulator/config", json={"reply_restriction": False})
    assert client.post("/2/tweets", headers=auth, json=body).status_code == 201


def test_bad_posts_are_400_problems(client: TestClient, auth) -> None:
    for body in (
        {},
        {"text": ""},
        {"text": "x" * 281},
        {"text": "hi", "reply": {"in_reply_to_tweet_id": "999"}},
        {"text": "hi", "direct_message_deep_link": "https://evil.example/"},
    ):
        r = client.post("/2/tweets", headers=auth, json=body)
        assert r.status_code == 400, body
        assert r.json()["detail"]
    r = client.post("/2/tweets", headers={**auth, "content-type": "application/json"}, content=b"{not json")
    assert r.status_code == 400


def test_dm_send_and_errors(client: TestClient, auth, state) -> None:
    inject(client, author="dmuser", text="hello", dm=True)
    uid = state.user_by_username("dmuser").id
    r = client.post(f"/2/dm_conversations/with/{uid}/messages", headers=auth, json={"text": "Hi there"})
    assert r.status_code == 201
    assert client.get("/_emulator/sent").json()["sent"][0]["recipient_id"] == uid
    assert client.post(f"/2/dm_conversations/with/{uid}/messages", headers=auth, json={}).status_code == 400
    assert (
        client.post(
            f"/2/dm_conversations/with/{uid}/messages", headers=auth, json={"text": "x" * 10001}
        ).status_code
        == 400
    )
    assert (
        client.post("/2/dm_conversations/with/42/messages", headers=auth, json={"text": "x"}).status_code
        == 404
    )
    me = state.org.id
    assert (
        client.post(f"/2/dm_conversations/with/{me}/messages", headers=auth, json={"text": "x"}).status_code
        == 400
    )


def test_duplicate_content_is_refused_only_when_turned_on(client: TestClient, auth) -> None:
    assert client.post("/2/tweets", headers=auth, json={"text": "We're on it."}).status_code == 201
    assert client.post("/2/tweets", headers=auth, json={"text": "We're on it."}).status_code == 201
    client.post("/_emulator/config", json={"reject_duplicates": True})
    r = client.post("/2/tweets", headers=auth, json={"text": "We're on it."})
    assert r.status_code == 403 and "duplicate" in r.json()["detail"]
    assert client.post("/2/tweets", headers=auth, json={"text": "Something new"}).status_code == 201
