"""X Chat against the emulator: a brand client built on the real `chatxdk` registers keys, reads the
conversations customers start, decrypts and verifies their events, and answers encrypted; the
emulated customers decrypt the answer, and ground truth says what they read."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from chat_xdk import Chat, QuickReply
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from starlette.testclient import TestClient

from flockdesk.emulator import EmulatorState
from flockdesk.emulator import chat as xchat
from flockdesk.emulator.chat import parse_whole_struct
from flockdesk.emulator.model import User


class Brand:
    """The org's side, as a desk would do it with chatxdk and the X API."""

    def __init__(self, client: TestClient, auth: dict[str, str], org_id: str) -> None:
        self.client, self.auth, self.org_id = client, auth, org_id
        self.chat = Chat()
        self.version = ""
        self.keys: dict[str, dict[str, bytes]] = {}  # conversation -> key version -> key

    def publish_keys(self) -> dict[str, Any]:
        reg = self.chat.generate_keypairs()
        pk = reg.public_key
        body = {
            "public_key": {
                "public_key": pk.public_key,
                "signing_public_key": pk.signing_public_key,
                "identity_public_key_signature": pk.identity_public_key_signature,
                "public_key_fingerprint": pk.public_key_fingerprint,
                "registration_method": pk.registration_method,
                "signing_public_key_signature": pk.signing_public_key_signature,
            },
            "version": str(reg.version),
            "generate_version": reg.generate_version,
        }
        r = self.client.post(f"/2/users/{self.org_id}/public_keys", headers=self.auth, json=body)
        assert r.status_code == 200, r.text
        self.version = r.json()["data"]["public_key_version"]
        self.chat.set_identity(self.org_id, self.version)
        return dict(r.json())

    def signing_keys(self, user_ids: list[str]) -> list[dict[str, str]]:
        out = []
        for uid in user_ids:
            r = self.client.get(f"/2/users/{uid}/public_keys", headers=self.auth)
            assert r.status_code == 200, r.text
            out += [
                {
                    "user_id": uid,
                    "public_key_version": row["public_key_version"],
                    "public_key": row["signing_public_key"],
                    "identity_public_key": row["public_key"],
                    "identity_public_key_signature": row["identity_public_key_signature"],
                }
                for row in r.json()["data"]
            ]
        return out

    def conversations(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        params: dict[str, Any] = {"max_results": 5, "chat_conversation.fields": "created_at,updated_at"}
        for _ in range(100):
            r = self.client.get("/2/chat/conversations", headers=self.auth, params=params)
            assert r.status_code == 200, r.text
            out += r.json().get("data", [])
            token = r.json()["meta"].get("next_token")
            if token is None:
                return out
            params["pagination_token"] = token
        raise AssertionError("pagination never ended")

    def events(self, conv_id: str) -> tuple[list[dict[str, Any]], list[str]]:
        """Every event of a conversation (oldest first) and its key-change events."""
        data: list[dict[str, Any]] = []
        key_events: list[str] = []
        params: dict[str, Any] = {"max_results": 3}
        for _ in range(1000):
            r = self.client.get(f"/2/chat/conversations/{conv_id}/events", headers=self.auth, params=params)
            assert r.status_code == 200, r.text
            body = r.json()
            data += body.get("data", [])
            key_events = body["meta"]["conversation_key_events"]
            if body["meta"].get("next_token") is None:
                return list(reversed(data)), key_events
            params["pagination_token"] = body["meta"]["next_token"]
        raise AssertionError("pagination never ended")

    def read(self, conv: dict[str, Any]) -> dict[str, Any]:
        """decrypt_events over the history: messages, keys and per-event errors."""
        members = conv.get("participant_ids") or conv.get("member_ids") or []
        events, key_events = self.events(conv["id"])
        raw = key_events + [e["encoded_event"] for e in events if e["encoded_event"] not in key_events]
        result = dict(self.chat.decrypt_events(raw, self.signing_keys(members)))
        self.keys[conv["id"]] = dict(result["conversation_keys"]["keys"])
        result["raw"] = raw
        result["latest"] = result["conversation_keys"]["latest_version"]
        return result

    def send(
        self, conv_id: str, text: str, quick_reply: QuickReply | None = None, version: str | None = None
    ) -> Any:
        keys = self.keys[conv_id]
        v = version or max(keys, key=int)
        payload = self.chat.encrypt_message(
            conv_id, text, conversation_key=keys[v], conversation_key_version=v, quick_reply=quick_reply
        )
        body = {
            "message_id": payload.message_id,
            "encoded_message_create_event": payload.encrypted_content,
            "encoded_message_event_signature": payload.encoded_event_signature,
        }
        return self.client.post(f"/2/chat/conversations/{conv_id}/messages", headers=self.auth, json=body)


def _traffic(client: TestClient, n: int, seed: int = 3) -> dict[str, Any]:
    r = client.post("/_emulator/traffic", json={"scenario": "airline", "messages": n, "seed": seed})
    assert r.status_code == 200, r.text
    return dict(r.json())


def _truth(client: TestClient) -> dict[str, Any]:
    return dict(client.get("/_emulator/truth").json())


@pytest.fixture
def brand(client: TestClient, auth: dict[str, str], state: EmulatorState) -> Brand:
    return Brand(client, auth, state.org.id)


def test_no_chat_until_the_org_publishes_keys(client: TestClient, brand: Brand) -> None:
    before = _traffic(client, 120)
    assert "chat" not in before["by_kind"]
    assert client.get("/_emulator/stats").json()["chats"] == 0
    assert brand.conversations() == []
    brand.publish_keys()
    after = _traffic(client, 120)
    assert after["by_kind"].get("chat", 0) > 0
    stats = client.get("/_emulator/stats").json()
    assert stats["chats"] > 0 and stats["chat_messages"] >= after["by_kind"]["chat"]


def test_published_keys_are_served_and_bad_registrations_refused(
    client: TestClient, auth: dict[str, str], brand: Brand, state: EmulatorState
) -> None:
    brand.publish_keys()
    rows = client.get(f"/2/users/{state.org.id}/public_keys", headers=auth).json()["data"]
    assert [r["public_key_version"] for r in rows] == [brand.version]
    assert brand.chat.matches_registered_key(rows[0]["public_key"])
    other = Chat().generate_keypairs().public_key
    forged = {
        "public_key": {
            "public_key": other.public_key,
            "signing_public_key": other.signing_public_key,
            "identity_public_key_signature": brand.chat.generate_keypairs().public_key.identity_public_key_signature,
        },
        "version": "5",
    }
    r = client.post(f"/2/users/{state.org.id}/public_keys", headers=auth, json=forged)
    assert r.status_code == 400 and "does not bind" in r.json()["detail"]
    customer = next(iter(state.users.values()))  # anyone else: only the authenticated user registers
    customer_id = customer.id if customer.id != state.org.id else "12"
    r = client.post(f"/2/users/{customer_id}/public_keys", headers=auth, json=forged)
    assert r.status_code in (403, 404)


def test_brand_decrypts_verifies_and_replies_readably(client: TestClient, brand: Brand) -> None:
    brand.publish_keys()
    _traffic(client, 80)
    truth = {m["id"]: m for m in _truth(client)["chats"]}
    convs = brand.conversations()
    assert convs, "customers opened X Chat conversations"
    decrypted = 0
    for conv in convs:
        result = brand.read(conv)
        messages = [m["event"] for m in result["messages"] if m["event"]["type"] == "Message"]
        for event in messages:
            want = truth[event["sequence_id"]]
            assert event["verified"] is True
            assert event["content"]["text"] == want["text"]
            assert not want["garbled"]
            decrypted += 1
        garbled = [m for m in truth.values() if m["conversation_id"] == conv["id"] and m["garbled"]]
        assert len(result["errors"]) == len(garbled)
    assert decrypted == sum(1 for m in truth.values() if not m["garbled"])

    conv = convs[0]
    quick: QuickReply = {
        "request": {
            "options": {
                "id": "qr1",
                "options": [{"id": "rebook", "label": "Rebook me"}, {"id": "refund", "label": "Refund"}],
            }
        }
    }
    r = brand.send(conv["id"], "Sorry about that. What would you like?", quick)
    assert r.status_code == 201, r.text
    event_b64 = r.json()["data"]["encoded_message_event"]
    # the answer is the wrapped MessageEvent: sequence id, sender and the org's message create event
    fields = parse_whole_struct(base64.b64decode(event_b64))
    assert fields[3] == brand.org_id.encode() and 1 in fields[7]
    sent = [m for m in _truth(client)["chats"] if m["sent_by_client"]]
    assert len(sent) == 1
    assert sent[0]["readable"] is True, sent[0]["problem"]
    assert sent[0]["text"] == "Sorry about that. What would you like?"
    assert sent[0]["quick_reply"]["request"]["options"]["id"] == "qr1"
    stats = client.get("/_emulator/stats").json()
    assert stats["received_chats"] == 1
    assert client.get("/_emulator/sent").json()["sent"][-1]["kind"] == "chat"

    # the customer answers by choosing one of the options
    for seed in range(4, 40):
        _traffic(client, 5, seed)
        answers = [m for m in _truth(client)["chats"] if m["quick_reply"] and "response" in m["quick_reply"]]
        if answers:
            break
    assert answers, "the customer never answered the quick reply"
    assert answers[0]["conversation_id"] == conv["id"]
    assert answers[0]["text"] in ("Rebook me", "Refund")
    assert answers[0]["quick_reply"]["response"]["options"]["request_id"] == "qr1"
    result = brand.read(conv)
    texts = [m["event"]["content"].get("text") for m in result["messages"] if m["event"]["type"] == "Message"]
    assert answers[0]["text"] in texts


def test_a_retried_send_is_stored_once(client: TestClient, brand: Brand, auth: dict[str, str]) -> None:
    brand.publish_keys()
    _traffic(client, 30)
    conv = brand.conversations()[0]
    brand.read(conv)
    keys = brand.keys[conv["id"]]
    v = max(keys, key=int)
    payload = brand.chat.encrypt_message(
        conv["id"], "once", conversation_key=keys[v], conversation_key_version=v
    )
    body = {
        "message_id": payload.message_id,
        "encoded_message_create_event": payload.encrypted_content,
        "encoded_message_event_signature": payload.encoded_event_signature,
    }
    url = f"/2/chat/conversations/{conv['id']}/messages"
    first = client.post(url, headers=auth, json=body)
    second = client.post(url, headers=auth, json=body)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert client.get("/_emulator/stats").json()["received_chats"] == 1


def test_key_rotation_by_customer_and_by_org(
    client: TestClient, brand: Brand, state: EmulatorState, auth: dict[str, str]
) -> None:
    brand.publish_keys()
    _traffic(client, 30)
    conv = brand.conversations()[0]
    old = brand.read(conv)["latest"]
    # a customer rotates: a reply under the old key is refused with X's failure type
    members: list[str] = conv.get("participant_ids") or conv.get("member_ids") or []
    customer = next(u for u in members if u != brand.org_id)
    with state.lock:
        internal = state.chat.conversations[conv["id"].replace("-", ":")]
        xchat.customer_rotate(state, state.chat.peers[customer], internal)
    r = brand.send(conv["id"], "under the old key", version=old)
    assert r.status_code == 400 and r.json()["reason"] == "NON_LATEST_CKEY_VERSION"
    new = brand.read(conv)["latest"]
    assert int(new) > int(old)
    assert brand.send(conv["id"], "under the new key").status_code == 201
    assert _truth(client)["chats"][-1]["readable"] is True

    # the org rotates: the customers unwrap the new key and read what follows
    inputs = [
        {"user_id": uid, "public_key": row["public_key"], "key_version": row["public_key_version"]}
        for uid in members
        for row in client.get(f"/2/users/{uid}/public_keys", headers=auth).json()["data"][:1]
    ]
    prep = brand.chat.prepare_conversation_key_change(inputs, conversation_id=conv["id"].replace("-", ":"))
    body = {
        "conversation_key_version": prep["conversation_key_version"],
        "conversation_participant_keys": [
            {
                "user_id": p["user_id"],
                "encrypted_conversation_key": p["encrypted_key"],
                "public_key_version": p["public_key_version"],
            }
            for p in prep["participant_keys"]
        ],
        "action_signatures": [
            {
                "message_id": s["message_id"],
                "encoded_message_event_detail": s["encoded_message_event_detail"],
                "message_event_signature": {
                    "signature": s["signature"],
                    "public_key_version": s["public_key_version"],
                    "signature_version": s["signature_version"],
                },
            }
            for s in prep["action_signatures"]
        ],
    }
    r = client.post(f"/2/chat/conversations/{conv['id']}/keys", headers=auth, json=body)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["conversation_id"] == conv["id"]
    brand.keys[conv["id"]][prep["conversation_key_version"]] = prep["conversation_key"]
    assert brand.send(conv["id"], "after the org's rotation").status_code == 201
    last = _truth(client)["chats"][-1]
    assert last["readable"] is True and last["text"] == "after the org's rotation"
    assert last["key_version"] == prep["conversation_key_version"]
    del body["action_signatures"]
    body["conversation_key_version"] = str(int(prep["conversation_key_version"]) + 1)
    r = client.post(f"/2/chat/conversations/{conv['id']}/keys", headers=auth, json=body)
    assert r.status_code == 400 and "action_signatures" in r.json()["detail"]


def test_a_garbled_event_fails_verification(client: TestClient, brand: Brand, state: EmulatorState) -> None:
    brand.publish_keys()
    _traffic(client, 40)
    with state.lock:  # a customer message corrupted in transit
        conv = next(iter(state.chat.conversations.values()))
        customer = next(u for u in conv.participants if u != state.org.id)
        event = xchat.customer_send(state, state.chat.peers[customer], conv, "my booking ref", garble=True)
    api_conv = {"id": xchat.api_id(conv.id), "participant_ids": conv.participants}
    if conv.is_group:
        api_conv = {"id": conv.id, "member_ids": conv.participants}
    result = brand.read(api_conv)
    index = result["raw"].index(event.encoded)
    assert str(index) in result["errors"]
    assert "signature" in result["errors"][str(index)].lower()
    truth = [m for m in _truth(client)["chats"] if m["id"] == str(event.sequence_id)][0]
    assert truth["garbled"] is True and truth["text"] == "my booking ref"


def test_activity_log_gets_chat_events(client: TestClient, brand: Brand, state: EmulatorState) -> None:
    brand.publish_keys()
    _traffic(client, 60)
    events = state.activity.since(0, 10_000)
    received = [e for e in events if e.event_type == "chat.received"]
    assert received and all(e.user_id == state.org.id and e.direction == "received" for e in received)
    p = received[0].payload
    assert set(p) >= {"conversation_id", "sender_id", "encoded_event", "conversation_key_version"}
    keys = brand.chat.extract_conversation_keys([p["conversation_key_change_event"]])["keys"]
    sender_keys = brand.signing_keys([p["sender_id"]])
    event = brand.chat.decrypt_event(p["encoded_event"], keys, sender_keys)
    assert event["type"] == "Message" and event["verified"]
    conv = brand.conversations()[0]
    brand.read(conv)
    assert brand.send(conv["id"], "hello from the desk").status_code == 201
    sent = [e for e in state.activity.since(0, 10_000) if e.event_type == "chat.sent"]
    assert len(sent) == 1 and sent[0].direction == "sent"
    assert sent[0].payload["conversation_id"] == conv["id"]


def test_read_typing_and_errors(client: TestClient, brand: Brand, auth: dict[str, str]) -> None:
    brand.publish_keys()
    _traffic(client, 40)
    conv = brand.conversations()[0]
    events, _ = brand.events(conv["id"])
    url = f"/2/chat/conversations/{conv['id']}"
    r = client.post(url + "/read", headers=auth, json={"seen_until_sequence_id": events[-1]["id"]})
    assert r.status_code == 200 and r.json() == {"data": {"success": True}}
    assert client.post(url + "/typing", headers=auth).json() == {"data": {"success": True}}
    truth_conv = next(c for c in _truth(client)["chat_conversations"] if c["id"] == conv["id"])
    assert truth_conv["org_seen_until"] == events[-1]["id"] and truth_conv["typing"] == 1
    assert client.post(url + "/read", headers=auth, json={}).status_code == 400
    assert client.get("/2/chat/conversations/1-2/events", headers=auth).status_code == 404
    assert client.get("/2/chat/conversations/a:b/events", headers=auth).status_code == 400
    bad = {
        "message_id": "m-1",
        "encoded_message_create_event": "AAAA",
        "encoded_message_event_signature": "AAAA",
    }
    r = client.post(url + "/messages", headers=auth, json=bad)
    assert r.status_code == 400 and "Thrift" in r.json()["detail"]
    r = client.get(url, headers=auth, params={"expansions": "participant_ids", "user.fields": "description"})
    assert r.status_code == 200 and r.json()["includes"]["users"]


def test_chat_needs_user_context_and_dm_scopes(client: TestClient, app_auth: dict[str, str]) -> None:
    assert client.get("/2/chat/conversations", headers=app_auth).status_code == 403
    assert client.get("/2/chat/conversations").status_code == 401


SPEC_167 = "urn:x-openapi-2.167"


def _spec_check(spec: dict[str, Any], path: str, method: str, status: str, body: Any) -> None:
    registry = Registry().with_resource(
        SPEC_167, Resource.from_contents(spec, default_specification=DRAFT202012)
    )
    pointer = "/".join(
        ["#", "paths", path.replace("~", "~0").replace("/", "~1"), method, "responses", status]
        + ["content", "application~1json", "schema"]
    )
    validator = Draft202012Validator({"$ref": SPEC_167 + pointer}, registry=registry)
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
    assert not errors, f"{method} {path}: " + "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])


def test_chat_responses_validate_against_spec_2_167(
    client: TestClient, brand: Brand, auth: dict[str, str], shared_dir: Path
) -> None:
    spec_path = shared_dir / "reference" / "x-openapi" / "openapi-2.167.json"
    if not spec_path.exists():
        pytest.skip(f"{spec_path} is absent")
    spec = json.loads(spec_path.read_text())
    _spec_check(spec, "/2/users/{id}/public_keys", "post", "200", brand.publish_keys())
    _traffic(client, 60)
    keys = client.get(f"/2/users/{brand.org_id}/public_keys", headers=auth).json()
    _spec_check(spec, "/2/users/{id}/public_keys", "get", "200", keys)
    params = {"chat_conversation.fields": "created_at,updated_at,group_name,type,id,is_muted"}
    params["expansions"] = "participant_ids,member_ids,admin_ids"
    listing = client.get("/2/chat/conversations", headers=auth, params={**params, "max_results": 2}).json()
    _spec_check(spec, "/2/chat/conversations", "get", "200", listing)
    conv = listing["data"][0]
    one = client.get(f"/2/chat/conversations/{conv['id']}", headers=auth, params=params).json()
    _spec_check(spec, "/2/chat/conversations/{id}", "get", "200", one)
    fields = (
        "conversation_id,created_at,encoded_event,id,is_trusted,message_event_signature,previous_id,sender_id"
    )
    events = client.get(
        f"/2/chat/conversations/{conv['id']}/events",
        headers=auth,
        params={"chat_message_event.fields": fields, "max_results": 2},
    ).json()
    _spec_check(spec, "/2/chat/conversations/{id}/events", "get", "200", events)
    brand.read(conv)
    sent = brand.send(conv["id"], "validated")
    assert sent.status_code == 201
    _spec_check(spec, "/2/chat/conversations/{id}/messages", "post", "201", sent.json())
    url = f"/2/chat/conversations/{conv['id']}"
    read = client.post(url + "/read", headers=auth, json={"seen_until_sequence_id": events["data"][0]["id"]})
    _spec_check(spec, "/2/chat/conversations/{id}/read", "post", "200", read.json())
    _spec_check(
        spec,
        "/2/chat/conversations/{id}/typing",
        "post",
        "200",
        client.post(url + "/typing", headers=auth).json(),
    )


def test_a_group_with_the_org_is_a_conversation_join(
    client: TestClient, brand: Brand, state: EmulatorState
) -> None:
    brand.publish_keys()
    inject_dm = client.post("/_emulator/post", json={"author": "ana_g", "text": "hi", "dm": True}).json()
    assert inject_dm["kind"] == "dm"
    with state.lock:
        ana = state.user_by_username("ana_g")
        ben = state.add_user(User(id="4242", username="ben_g", name="Ben G"))
        assert ana is not None
        peer = xchat.peer_for(state, ana.id)
        xchat.peer_for(state, ben.id)
        conv = xchat.group_create(state, peer, [state.org.id, ben.id], "Ana's trip")
        xchat.customer_send(state, peer, conv, "hello group")
    joins = [e for e in state.activity.since(0, 1000) if e.event_type == "chat.conversation_join"]
    assert len(joins) == 1 and joins[0].payload["conversation_id"] == conv.id
    listed = [v for v in brand.conversations() if v["id"] == conv.id]
    assert listed and listed[0]["type"] == "group" and set(listed[0]["member_ids"]) == set(conv.participants)
    result = brand.read(listed[0])
    assert [m["event"]["type"] for m in result["messages"]] == ["KeyChange", "GroupChange", "Message"]
    assert result["errors"] == {}
    assert brand.send(conv.id, "hello both").status_code == 201
    last = _truth(client)["chats"][-1]
    assert last["readable"] is True and last["text"] == "hello both"
