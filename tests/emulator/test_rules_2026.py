"""X's 2026 rules for apps, as the emulator enforces them, and the opt-outs in its traffic."""

from __future__ import annotations

from starlette.testclient import TestClient

from flockdesk.emulator import EmulatorState

from .helpers import inject


def _reply(client: TestClient, auth: dict[str, str], parent: str) -> int:
    body = {"text": "We can help", "reply": {"in_reply_to_tweet_id": parent}}
    return client.post("/2/tweets", headers=auth, json=body).status_code


def test_replies_only_where_the_author_summoned_the_org(
    client: TestClient, auth, state: EmulatorState
) -> None:
    hashtag = inject(client, author="maria", text="delayed again #SkywardAir")
    refused = client.post(
        "/2/tweets", headers=auth, json={"text": "Sorry!", "reply": {"in_reply_to_tweet_id": hashtag["id"]}}
    )
    assert refused.status_code == 403
    assert "not been mentioned or otherwise engaged" in refused.json()["detail"]
    assert refused.json()["reason"] == "reply-not-summoned"
    mention = inject(client, author="maria", text=f"@{state.org.username} delayed again")
    own = inject(client, from_org=True, text="Winter schedule is out")
    answer = inject(client, author="omar", text="finally", in_reply_to=own["id"])  # replied to the org
    assert [_reply(client, auth, p["id"]) for p in (mention, own, answer)] == [201, 201, 201]


def test_dms_only_to_people_who_dmed_first(client: TestClient, auth, state: EmulatorState) -> None:
    client.post("/_emulator/config", json={"dm_restriction": True})
    stranger = inject(client, author="maria", text=f"@{state.org.username} hi")
    url = f"/2/dm_conversations/with/{stranger['author_id']}/messages"
    refused = client.post(url, headers=auth, json={"text": "Hello!"})
    assert refused.status_code == 403 and refused.json()["reason"] == "dm-not-initiated-by-recipient"
    inject(client, author="maria", text="here is my booking", dm=True)
    assert client.post(url, headers=auth, json={"text": "Thanks"}).status_code == 201
    client.post("/_emulator/config", json={"dm_restriction": False})
    other = inject(client, author="omar", text="hello")
    assert (
        client.post(
            f"/2/dm_conversations/with/{other['author_id']}/messages", headers=auth, json={"text": "Hi"}
        ).status_code
        == 201
    )


def test_quotes_likes_and_follows_are_not_offered(client: TestClient, auth, state: EmulatorState) -> None:
    post = inject(client, author="maria", text="great flight")
    quote = client.post("/2/tweets", headers=auth, json={"text": "Thanks!", "quote_tweet_id": post["id"]})
    assert quote.status_code == 403 and quote.json()["reason"] == "quote-not-available"
    uid = state.org.id
    assert (
        client.post(f"/2/users/{uid}/likes", headers=auth, json={"tweet_id": post["id"]}).status_code == 403
    )
    follow = client.post(
        f"/2/users/{uid}/following", headers=auth, json={"target_user_id": post["author_id"]}
    )
    assert follow.status_code == 403
    client.post("/_emulator/config", json={"quote_restriction": False})
    assert (
        client.post(
            "/2/tweets", headers=auth, json={"text": "Thanks!", "quote_tweet_id": post["id"]}
        ).status_code
        == 201
    )


def test_traffic_opt_outs_are_marked_in_the_truth(client: TestClient) -> None:
    out = client.post("/_emulator/traffic", json={"scenario": "airline", "messages": 1500, "seed": 2}).json()
    dms = client.get("/_emulator/truth").json()["dms"]
    marked = [d["text"] for d in dms if d["opt_out"]]
    assert out["opt_outs"] == len(marked) > 0
    phrases = {"stop", "unsubscribe", "arrête", "basta", "para", "abmelden", "cancel", "desuscribir"}
    assert all(any(p in t.lower() for p in phrases) for t in marked)
    assert all(d["kind"] == "dm" and not d["from_org"] for d in dms if d["opt_out"])


def test_alumni_stop_replies_are_opt_outs_but_declines_are_not(client: TestClient) -> None:
    client.post("/_emulator/reset", json={"scenario": "alumni"})
    client.post("/_emulator/traffic", json={"scenario": "alumni", "messages": 800, "seed": 4})
    dms = client.get("/_emulator/truth").json()["dms"]
    assert any(d["opt_out"] and "STOP" in d["text"] for d in dms)
    assert not any(d["opt_out"] for d in dms if d["text"].endswith("Not interested, thanks."))
