"""PUT /2/tweets/:tweet_id/hidden: only replies in the org's own conversations, recorded in the truth."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.emulator.helpers import inject


def _truth_hidden(client: TestClient, post_id: str) -> bool:
    posts = client.get("/_emulator/truth").json()["posts"]
    return next(p["hidden"] for p in posts if p["id"] == post_id)


def _thread(client: TestClient) -> tuple[dict, dict]:
    root = inject(client, from_org=True, text="Storm update: flights from Oslo are delayed")
    reply = inject(client, author="maria", text="my card is 4111 1111 1111 1111", in_reply_to=root["id"])
    return root, reply


def test_hide_and_unhide_a_reply_in_an_org_thread(client: TestClient, auth) -> None:
    _, reply = _thread(client)
    assert _truth_hidden(client, reply["id"]) is False
    r = client.put(f"/2/tweets/{reply['id']}/hidden", headers=auth, json={"hidden": True})
    assert r.status_code == 200 and r.json() == {"data": {"hidden": True}}
    assert _truth_hidden(client, reply["id"]) is True
    again = client.put(f"/2/tweets/{reply['id']}/hidden", headers=auth, json={"hidden": True})
    assert again.json() == {"data": {"hidden": True}}  # hiding twice succeeds
    r = client.put(f"/2/tweets/{reply['id']}/hidden", headers=auth, json={"hidden": False})
    assert r.json() == {"data": {"hidden": False}}
    assert _truth_hidden(client, reply["id"]) is False


def test_refuses_outside_the_orgs_conversations(client: TestClient, auth, state) -> None:
    other_root = inject(client, author="bob", text=f"@{state.org.username} why is my bag lost")
    stranger = inject(client, author="maria", text="same here", in_reply_to=other_root["id"])
    root, _ = _thread(client)
    for post_id in (other_root["id"], stranger["id"], root["id"]):
        r = client.put(f"/2/tweets/{post_id}/hidden", headers=auth, json={"hidden": True})
        assert r.status_code == 403, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert "conversations you started" in r.json()["detail"]
        assert _truth_hidden(client, post_id) is False


def test_bad_requests(client: TestClient, auth, app_auth) -> None:
    _, reply = _thread(client)
    assert client.put(f"/2/tweets/{reply['id']}/hidden", headers=auth, json={}).status_code == 400
    assert client.put("/2/tweets/42/hidden", headers=auth, json={"hidden": True}).status_code == 404
    r = client.put(f"/2/tweets/{reply['id']}/hidden", headers=app_auth, json={"hidden": True})
    assert r.status_code == 403  # app-only auth cannot moderate


def test_rate_limited_at_50_per_window(client: TestClient, auth, state) -> None:
    client.post("/_emulator/config", json={"speedup": 1})
    _, reply = _thread(client)
    codes = [
        client.put(f"/2/tweets/{reply['id']}/hidden", headers=auth, json={"hidden": True}).status_code
        for _ in range(51)
    ]
    assert codes[:50] == [200] * 50 and codes[50] == 429
