"""GET /_emulator/requests lists every X API request in order, with its parameters and status."""

from __future__ import annotations

from starlette.testclient import TestClient

from flockdesk.emulator import EmulatorState


def test_every_api_request_is_logged_in_order(
    client: TestClient, state: EmulatorState, auth: dict[str, str]
) -> None:
    me = client.get("/2/users/me", headers=auth).json()["data"]["id"]
    client.get(f"/2/users/{me}/mentions", headers=auth, params={"since_id": "5"})
    client.get("/2/tweets/search/recent", headers=auth, params={"query": "#help"})
    client.get("/2/tweets/search/recent", params={"query": "#help"})  # no token: 401, logged too
    client.get("/_emulator/stats")  # the control API is not the X API: not logged
    log = client.get("/_emulator/requests").json()["requests"]
    assert [(r["endpoint"], r["status"]) for r in log] == [
        ("users_me", 200),
        ("mentions", 200),
        ("search", 200),
        ("search", 401),
    ]
    assert log[1]["params"] == {"since_id": "5"} and log[2]["params"] == {"query": "#help"}
    assert log[0]["at"] <= log[1]["at"] <= log[2]["at"]
