"""Fault injection on read responses (rates, kinds, determinism) and the write fault `lost_response`."""

from __future__ import annotations

import json

from starlette.testclient import TestClient

from flockdesk.emulator import EmulatorConfig, EmulatorState, create_app
from tests.emulator.helpers import inject


def _statuses(seed: int, n: int) -> list[int]:
    st = EmulatorState(EmulatorConfig(speedup=900))
    with TestClient(create_app(st)) as c:
        c.post("/_emulator/faults", json={"rate": 0.3, "seed": seed, "kinds": ["500", "429"]})
        h = {"Authorization": f"Bearer {st.token}"}
        return [c.get(f"/2/users/{st.org.id}/mentions", headers=h).status_code for _ in range(n)]


def test_fault_rate_is_roughly_honoured_and_deterministic() -> None:
    a = _statuses(11, 200)
    assert a == _statuses(11, 200)
    assert a != _statuses(12, 200)
    faulty = sum(s != 200 for s in a)
    assert 30 <= faulty <= 90  # 30% of 200, with slack
    assert set(a) == {200, 429, 500}


def test_rate_zero_turns_faults_off_and_writes_are_never_faulted(client: TestClient, auth, state) -> None:
    client.post("/_emulator/faults", json={"rate": 1.0, "kinds": ["server_error"]})
    assert client.get(f"/2/users/{state.org.id}/mentions", headers=auth).status_code == 500
    assert client.post("/2/tweets", headers=auth, json={"text": "still works"}).status_code == 201
    client.post("/_emulator/faults", json={"rate": 0})
    assert all(
        client.get(f"/2/users/{state.org.id}/mentions", headers=auth).status_code == 200 for _ in range(20)
    )


def test_429_storm_carries_reset_header(client: TestClient, auth, state) -> None:
    client.post("/_emulator/faults", json={"rate": 1.0, "kinds": ["rate_limit"]})
    r = client.get("/2/dm_events", headers=auth)
    assert r.status_code == 429
    assert r.headers["x-rate-limit-remaining"] == "0"
    assert int(r.headers["x-rate-limit-reset"]) > 0


def test_malformed_body_is_truncated_json(client: TestClient, auth, state) -> None:
    inject(client, author="a", text=f"@{state.org.username} hello")
    client.post("/_emulator/faults", json={"rate": 1.0, "kinds": ["malformed"]})
    r = client.get(f"/2/users/{state.org.id}/mentions", headers=auth)
    assert r.status_code == 200
    try:
        json.loads(r.content)
    except ValueError:
        pass
    else:
        raise AssertionError("the malformed fault returned valid JSON")


def test_timeout_sleeps_then_503(client: TestClient, auth, state) -> None:
    client.post("/_emulator/faults", json={"rate": 1.0, "kinds": ["timeout"], "timeout_s": 0.05})
    r = client.get(f"/2/users/{state.org.id}/mentions", headers=auth)
    assert r.status_code == 503
    assert r.json()["status"] == 503


def test_duplicate_page_repeats_the_same_page(client: TestClient, auth, state) -> None:
    ids = [inject(client, author="a", text=f"@{state.org.username} m{i}")["id"] for i in range(12)]
    client.post("/_emulator/faults", json={"rate": 1.0, "kinds": ["duplicate_page"]})
    first = client.get(f"/2/users/{state.org.id}/mentions", headers=auth, params={"max_results": 5}).json()
    again = client.get(
        f"/2/users/{state.org.id}/mentions",
        headers=auth,
        params={"max_results": 5, "pagination_token": first["meta"]["next_token"]},
    ).json()
    assert [t["id"] for t in first["data"]] == [t["id"] for t in again["data"]] == list(reversed(ids))[:5]


def test_out_of_order_keeps_the_same_items(client: TestClient, auth, state) -> None:
    ids = [inject(client, author="a", text=f"@{state.org.username} m{i}")["id"] for i in range(30)]
    client.post("/_emulator/faults", json={"rate": 1.0, "kinds": ["out_of_order"], "seed": 3})
    body = client.get(f"/2/users/{state.org.id}/mentions", headers=auth, params={"max_results": 30}).json()
    got = [t["id"] for t in body["data"]]
    assert sorted(got) == sorted(ids)
    assert got != list(reversed(ids))


def test_unknown_fault_kind_is_a_clear_error(client: TestClient) -> None:
    r = client.post("/_emulator/faults", json={"rate": 0.5, "kinds": ["gremlins"]})
    assert r.status_code == 400
    assert "gremlins" in r.json()["detail"]
    assert client.post("/_emulator/faults", json={"rate": 2}).status_code == 400


def test_lost_response_applies_the_write_then_loses_its_answer(client: TestClient, auth, state) -> None:
    root = inject(client, author="maria", text=f"@{state.org.username} where is my bag")
    inject(client, author="maria", text="it's a blue suitcase", dm=True)  # she DMed first: a DM may follow
    client.post("/_emulator/faults", json={"rate": 1.0, "kinds": ["lost_response"]})
    # reads are untouched by a write fault
    assert client.get(f"/2/users/{state.org.id}/mentions", headers=auth).status_code == 200
    r = client.post(
        "/2/tweets", headers=auth, json={"text": "On it", "reply": {"in_reply_to_tweet_id": root["id"]}}
    )
    assert r.status_code == 503 and r.headers["content-type"] == "application/problem+json"
    r = client.post(
        f"/2/dm_conversations/with/{root['author_id']}/messages", headers=auth, json={"text": "Hi"}
    )
    assert r.status_code == 503
    truth = client.get("/_emulator/truth").json()
    assert [p["text"] for p in truth["posts"] if p["sent_by_client"]] == ["On it"]
    assert [d["text"] for d in truth["dms"] if d["sent_by_client"]] == ["Hi"]  # (maria's DM is not)
    assert client.post("/_emulator/faults", json={"rate": 0}).json()["injected"] == {"lost_response": 2}
