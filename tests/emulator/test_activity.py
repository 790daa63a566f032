"""The X Activity API in the emulator: producers, subscriptions, the persistent stream, webhooks."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from starlette.testclient import TestClient

from flockdesk.emulator import EmulatorServer, EmulatorState
from flockdesk.emulator.webhooks import signature

from .helpers import inject


def _subscribe(client: Any, headers: dict[str, str], event_type: str, user_id: str, **extra: Any) -> Any:
    return client.post(
        "/2/activity/subscriptions",
        headers=headers,
        json={"event_type": event_type, "filter": {"user_id": user_id, **extra.pop("filt", {})}, **extra},
    )


# -- producers ---------------------------------------------------------------------------------------


def test_the_world_emits_the_orgs_events(client: TestClient, auth, state: EmulatorState) -> None:
    org = state.org
    own = inject(client, from_org=True, text="Our winter schedule is out")
    mention = inject(client, author="maria", text=f"@{org.username} where is my bag?")
    reply = inject(client, author="omar", text="nice", in_reply_to=own["id"])
    inject(client, author="lena", text="RT", retweet_of=own["id"])
    inject(client, author="maria", text="it is blue", dm=True)
    r = client.post(
        "/2/tweets", headers=auth, json={"text": "On it", "reply": {"in_reply_to_tweet_id": mention["id"]}}
    )
    assert r.status_code == 201
    dm_to = client.post(
        f"/2/dm_conversations/with/{mention['author_id']}/messages", headers=auth, json={"text": "Hi"}
    )
    assert dm_to.status_code == 201
    client.post("/_emulator/followers", json={"users": ["newfan"]})
    client.post("/_emulator/unfollow", json={"users": ["newfan"]})
    client.post("/_emulator/revoke")

    events = [(e.event_type, e.direction) for e in state.activity.since(0)]
    assert events == [
        ("post.create", None),
        ("post.mention.create", None),
        ("post.reply.create", None),
        ("post.repost.create", None),
        ("dm.received", "inbound"),
        ("post.create", None),  # the org's own reply through the API
        ("dm.sent", "outbound"),
        ("follow.follow", "inbound"),
        ("follow.unfollow", "inbound"),
        ("oauth.revoke", None),
    ]
    mention_event = state.activity.since(1, 1)[0]
    assert mention_event.payload["id"] == mention["id"]
    assert mention_event.payload["author_id"] == mention["author_id"]
    assert {u["username"] for u in mention_event.includes["users"]} >= {"maria", org.username}
    reply_event = state.activity.since(2, 1)[0]
    assert reply_event.payload["id"] == reply["id"]
    dm = state.activity.since(4, 1)[0].payload["direct_message_events"][0]
    assert dm["message_create"]["message_data"]["text"] == "it is blue"
    assert dm["message_create"]["target"]["recipient_id"] == org.id
    follow = state.activity.since(7, 1)[0].payload
    assert follow["source"]["data"]["username"] == "newfan"
    assert follow["target"]["data"]["id"] == org.id
    # the revoke took the user token away until it is given back
    assert client.get("/2/users/me", headers=auth).status_code == 401
    client.post("/_emulator/revoke", json={"undo": True})
    assert client.get("/2/users/me", headers=auth).status_code == 200


def test_traffic_brings_and_loses_followers_with_events(client: TestClient, state: EmulatorState) -> None:
    out = client.post("/_emulator/traffic", json={"messages": 400, "seed": 3}).json()
    assert out["follows"] > 0 and out["unfollows"] > 0
    types = [e.event_type for e in state.activity.since(0, 100_000)]
    assert types.count("follow.follow") == out["follows"]
    assert types.count("follow.unfollow") == out["unfollows"]
    assert len(state.followers) == out["follows"] - out["unfollows"]


# -- subscriptions -----------------------------------------------------------------------------------


def test_subscriptions_crud(client: TestClient, app_auth, auth, state: EmulatorState) -> None:
    r = _subscribe(client, app_auth, "post.mention.create", state.org.id, tag="mentions")
    assert r.status_code == 200, r.text
    sub = r.json()["data"]["subscription"]
    assert sub["event_type"] == "post.mention.create" and sub["filter"] == {"user_id": state.org.id}
    assert sub["tag"] == "mentions" and r.json()["meta"] == {"total_subscriptions": 1}
    dm = _subscribe(client, auth, "dm.received", state.org.id, filt={"direction": "inbound"})
    assert dm.status_code == 200, dm.text
    assert _subscribe(client, app_auth, "post.mention.create", state.org.id).status_code == 409

    listed = client.get("/2/activity/subscriptions", headers=app_auth).json()
    assert [s["event_type"] for s in listed["data"]] == ["post.mention.create", "dm.received"]
    sid = sub["subscription_id"]
    put = client.put(f"/2/activity/subscriptions/{sid}", headers=app_auth, json={"tag": "at-us"})
    assert put.status_code == 200 and put.json()["data"]["subscription"]["tag"] == "at-us"
    bad_put = client.put(f"/2/activity/subscriptions/{sid}", headers=app_auth, json={"event_type": "dm.sent"})
    assert bad_put.status_code == 400 and "delete the subscription" in bad_put.text
    assert client.delete(f"/2/activity/subscriptions/{sid}", headers=app_auth).json() == {
        "data": {"deleted": True},
        "meta": {"total_subscriptions": 1},
    }
    assert client.delete(f"/2/activity/subscriptions/{sid}", headers=app_auth).status_code == 404
    many = client.delete(
        "/2/activity/subscriptions",
        headers=app_auth,
        params={"ids": f"{dm.json()['data']['subscription']['subscription_id']},123"},
    ).json()
    assert [d["deleted"] for d in many["data"]] == [True] and many["errors"][0]["subscription_id"] == "123"


def test_subscription_rules(client: TestClient, app_auth, state: EmulatorState) -> None:
    # private events only for a user who authorized the app
    assert _subscribe(client, app_auth, "dm.received", "12345").status_code == 403
    assert _subscribe(client, app_auth, "profile.update.bio", "12345").status_code == 200
    unknown = _subscribe(client, app_auth, "post.like.create", state.org.id)
    assert unknown.status_code == 400 and "event_type" in unknown.text
    bad_direction = _subscribe(
        client, app_auth, "post.mention.create", state.org.id, filt={"direction": "inbound"}
    )
    assert bad_direction.status_code == 400
    # a user token needs the scope for the event type (dm.read for dm.*)
    grant = state.oauth.issue(state.oauth.default_client.client_id, {"tweet.read", "users.read"})
    user = {"Authorization": f"Bearer {grant['access_token']}"}
    assert _subscribe(client, user, "dm.received", state.org.id).status_code == 403
    assert _subscribe(client, user, "post.reply.create", state.org.id).status_code == 200
    client.post("/_emulator/config", json={"subscription_limit": 3})
    assert _subscribe(client, app_auth, "post.quote.create", state.org.id).status_code == 200
    assert _subscribe(client, app_auth, "follow.follow", state.org.id).status_code == 429


# -- the persistent stream ---------------------------------------------------------------------------


@pytest.fixture
def emu() -> Iterator[EmulatorServer]:
    with EmulatorServer(speedup=900, stream_keepalive_s=0.2) as server:
        yield server


def _read_stream(emu: EmulatorServer, out: queue.Queue[Any], stop: threading.Event, **params: Any) -> int:
    """Read the stream, reconnecting with backfill after every cut; returns the number of connections."""
    connections = 0
    headers = {"Authorization": f"Bearer {emu.app_bearer}"}
    while not stop.is_set():
        connections += 1
        with httpx.stream(
            "GET", emu.base_url + "/2/activity/stream", headers=headers, params=params, timeout=10
        ) as r:
            assert r.status_code == 200, r.read()
            for line in r.iter_lines():
                if line.strip():
                    out.put(json.loads(line))
                if stop.is_set():
                    return connections
        params = {"backfill_minutes": 1}
    return connections


def test_stream_delivers_a_mention_as_it_happens(emu: EmulatorServer) -> None:
    app = {"Authorization": f"Bearer {emu.app_bearer}"}
    _subscribe(httpx.Client(base_url=emu.base_url), app, "post.mention.create", emu.org_user["id"], tag="m")
    got: queue.Queue[Any] = queue.Queue()
    stop = threading.Event()
    reader = threading.Thread(target=_read_stream, args=(emu, got, stop), daemon=True)
    reader.start()
    time.sleep(0.3)  # let the reader connect: the stream starts at "now"
    post = httpx.post(
        emu.base_url + "/_emulator/post",
        json={"author": "maria", "text": f"@{emu.org_user['username']} my bag?"},
    ).json()
    envelope = got.get(timeout=5)
    stop.set()
    assert envelope["data"]["event_type"] == "post.mention.create"
    assert envelope["data"]["tag"] == "m"
    assert envelope["data"]["filter"] == {"user_id": emu.org_user["id"]}
    assert envelope["data"]["payload"]["id"] == post["id"]
    # the user token may not open the stream; only two connections at once
    user = {"Authorization": f"Bearer {emu.token}"}
    assert httpx.get(emu.base_url + "/2/activity/stream", headers=user).status_code == 403


def test_stream_cut_and_resume_with_backfill_loses_nothing(emu: EmulatorServer) -> None:
    app = {"Authorization": f"Bearer {emu.app_bearer}"}
    got: queue.Queue[Any] = queue.Queue()
    stop = threading.Event()
    connections: list[int] = []
    with httpx.Client(base_url=emu.base_url) as c:
        _subscribe(c, app, "post.mention.create", emu.org_user["id"])
        c.post("/_emulator/faults", json={"stream_cut_after": 2})
        reader = threading.Thread(
            target=lambda: connections.append(_read_stream(emu, got, stop)), daemon=True
        )
        reader.start()
        time.sleep(0.3)  # connected: what follows is live, and the stream is cut after 2 events
        posted = [
            c.post(
                "/_emulator/post", json={"author": f"fan{i}", "text": f"@{emu.org_user['username']} #{i}"}
            ).json()["id"]
            for i in range(7)
        ]
        seen: dict[str, str] = {}  # event_uuid -> post id: the reconnect's backfill repeats some
        while len(seen) < len(posted):
            env = got.get(timeout=20)
            seen[env["data"]["event_uuid"]] = env["data"]["payload"]["id"]
        stop.set()
        c.post("/_emulator/post", json={"author": "late", "text": f"@{emu.org_user['username']} bye"})
        reader.join(timeout=10)
        faults = c.post("/_emulator/faults", json={"rate": 0}).json()
    assert sorted(seen.values()) == sorted(posted)
    assert connections and connections[0] >= 2
    assert faults["injected"]["stream_cut"] >= 1


def _wait(pred: Any, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_streams_dropped_every_few_seconds_even_when_idle_resume_with_backfill(emu: EmulatorServer) -> None:
    app = {"Authorization": f"Bearer {emu.app_bearer}"}
    got: queue.Queue[Any] = queue.Queue()
    stop = threading.Event()
    with httpx.Client(base_url=emu.base_url) as c:
        _subscribe(c, app, "post.mention.create", emu.org_user["id"])
        set_to = c.post("/_emulator/faults", json={"stream_drop_every_s": 0.3}).json()
        assert set_to["stream_drop_every_s"] == 0.3 and set_to["stream_drop_rate"] == 0.0
        reader = threading.Thread(target=_read_stream, args=(emu, got, stop), daemon=True)
        reader.start()
        _wait(lambda: c.get("/_emulator/stats").json()["streams_open"] == 1, "the stream")
        posted = []
        for i in range(6):
            text = f"@{emu.org_user['username']} #{i}"
            posted.append(c.post("/_emulator/post", json={"author": f"fan{i}", "text": text}).json()["id"])
            if i == 2:  # no traffic for a while: the connection is dropped all the same
                _wait(lambda: c.get("/_emulator/stats").json()["stream_connects"] >= 3, "idle drops")
        seen: dict[str, str] = {}
        while len(seen) < len(posted):
            env = got.get(timeout=20)
            seen[env["data"]["event_uuid"]] = env["data"]["payload"]["id"]
        stop.set()
        c.post("/_emulator/post", json={"author": "late", "text": f"@{emu.org_user['username']} bye"})
        reader.join(timeout=10)
        faults = c.post("/_emulator/faults", json={"rate": 0, "stream_drop_every_s": None}).json()
        carried = c.get("/_emulator/stats").json()["stream_events"]
    assert sorted(seen.values()) == sorted(posted)
    assert carried >= len(posted)  # backfill repeats some of them
    assert faults["injected"]["stream_cut"] >= 2 and faults["stream_drop_every_s"] is None


def test_the_control_api_drops_every_open_stream_at_once(emu: EmulatorServer) -> None:
    ended = threading.Event()

    def read() -> None:
        headers = {"Authorization": f"Bearer {emu.app_bearer}"}
        with httpx.stream("GET", emu.base_url + "/2/activity/stream", headers=headers, timeout=30) as r:
            assert r.status_code == 200
            for _ in r.iter_lines():
                pass
        ended.set()

    with httpx.Client(base_url=emu.base_url) as c:
        assert c.post("/_emulator/streams/drop").json() == {"dropped": 0}
        threading.Thread(target=read, daemon=True).start()
        _wait(lambda: c.get("/_emulator/stats").json()["streams_open"] == 1, "the stream")
        assert c.post("/_emulator/streams/drop").json() == {"dropped": 1}
        assert ended.wait(10), "the stream was not ended"
        _wait(lambda: c.get("/_emulator/stats").json()["streams_open"] == 0, "the stream to close")
        stats = c.get("/_emulator/stats").json()
        faults = c.post("/_emulator/faults", json={"rate": 0}).json()
    assert stats["stream_connects"] == 1
    assert faults["injected"]["stream_drop"] == 1


# -- webhooks ----------------------------------------------------------------------------------------


class _Receiver(BaseHTTPRequestHandler):
    secret = "flockdesk-emulator-consumer-secret"
    answer_crc = True
    fail_next_posts = 0
    received: queue.Queue[tuple[dict[str, str], bytes]] = queue.Queue()

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        token = parse_qs(urlsplit(self.path).query)["crc_token"][0]
        answer = signature(self.secret, token.encode()) if self.answer_crc else "sha256=wrong"
        body = json.dumps({"response_token": answer}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["content-length"]))
        if type(self).fail_next_posts > 0:
            type(self).fail_next_posts -= 1
            self.send_response(500)
        else:
            self.received.put(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[_Receiver]]]:
    handler = type("Receiver", (_Receiver,), {"received": queue.Queue()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/x/webhook", handler
    server.shutdown()


def test_webhook_crc_signed_delivery_retry_and_replay(
    client: TestClient, app_auth, state: EmulatorState, receiver: tuple[str, type[_Receiver]]
) -> None:
    url, handler = receiver
    handler.answer_crc = False
    refused = client.post("/2/webhooks", headers=app_auth, json={"url": url})
    assert refused.status_code == 400 and "CRC" in refused.text
    handler.answer_crc = True
    created = client.post("/2/webhooks", headers=app_auth, json={"url": url})
    assert created.status_code == 200, created.text
    hook = created.json()["data"]
    assert hook["valid"] is True and hook["url"] == url
    assert client.get("/2/webhooks", headers=app_auth).json()["meta"] == {"result_count": 1}
    assert client.put(f"/2/webhooks/{hook['id']}", headers=app_auth).json() == {"data": {"valid": True}}
    sub = _subscribe(client, app_auth, "dm.received", state.org.id, webhook_id=hook["id"], tag="dms")
    assert sub.status_code == 200, sub.text

    handler.fail_next_posts = 1  # the first attempt fails: the emulator retries
    inject(client, author="maria", text="my bag is blue", dm=True)
    headers, body = handler.received.get(timeout=10)
    envelope = json.loads(body)
    assert envelope["data"]["event_type"] == "dm.received" and envelope["data"]["tag"] == "dms"
    assert headers["x-twitter-webhooks-signature"] == signature(state.config.consumer_secret, body)
    oauth_secret = state.oauth.default_client.client_secret
    assert headers["x-twitter-webhooks-signature-oauth2"] == signature(oauth_secret, body)

    now = datetime.now(tz=UTC)
    replay = client.post(
        "/2/webhooks/replay",
        headers=app_auth,
        json={
            "webhook_id": hook["id"],
            "from_date": (now - timedelta(minutes=1)).strftime("%Y%m%d%H%M"),
            "to_date": now.strftime("%Y%m%d%H%M"),
        },
    )
    assert replay.status_code == 200 and set(replay.json()["data"]) == {"job_id", "created_at"}
    _headers, again = handler.received.get(timeout=10)
    assert json.loads(again)["data"]["event_uuid"] == envelope["data"]["event_uuid"]
    assert client.delete(f"/2/webhooks/{hook['id']}", headers=app_auth).json() == {"data": {"deleted": True}}
    state.closing.set()  # ends the delivery thread
