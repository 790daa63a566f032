"""REST API: OpenAPI document, conversations, messages, contacts, assignments, admin endpoints, tokens."""

from __future__ import annotations

from fastapi.testclient import TestClient

from flockdesk.services.team import users as users_svc

from .conftest import SQLITE_ONLY, Browser
from .seed import thread


def _bearer(engine, user_id: int) -> dict[str, str]:
    return {"Authorization": f"Bearer {users_svc.create_api_token(engine, user_id, 'test')}"}


@SQLITE_ONLY
def test_openapi_document_lists_the_endpoints(client: TestClient) -> None:
    doc = client.get("/api/v1/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    paths = doc["paths"]
    for p in (
        "/conversations",
        "/conversations/{cid}",
        "/conversations/{cid}/messages",
        "/conversations/{cid}/replies",
        "/conversations/{cid}/assignments",
        "/contacts/{contact_id}",
        "/check-reply",
        "/tokens",
    ):
        assert p in paths, p
    assert "201" in paths["/conversations/{cid}/replies"]["post"]["responses"]


def test_conversations_list_get_messages_contact_and_assign(client: TestClient, engine, people) -> None:
    h = _bearer(engine, people["agent"].id)
    ids = [thread(engine, name=f"C{i}", username=f"c{i}", priority=i / 10) for i in range(5)]
    page = client.get("/api/v1/conversations", params={"limit": 2}, headers=h).json()
    assert [r["contact_name"] for r in page["items"]] == ["C4", "C3"] and page["next_cursor"]
    nxt = client.get(
        "/api/v1/conversations", params={"limit": 2, "cursor": page["next_cursor"]}, headers=h
    ).json()
    assert [r["contact_name"] for r in nxt["items"]] == ["C2", "C1"]
    bad = client.get("/api/v1/conversations", params={"cursor": "garbage"}, headers=h)
    assert bad.status_code == 400 and bad.json()["detail"]
    assert client.get("/api/v1/conversations", params={"view": "nope"}, headers=h).status_code == 400
    cid = ids[0]["conversation"]
    got = client.get(f"/api/v1/conversations/{cid}", headers=h).json()
    assert got["conversation"]["id"] == cid and got["conversation"]["kind"] == "public"
    msgs = client.get(f"/api/v1/conversations/{cid}/messages", headers=h).json()
    assert msgs[0]["text"] == "@acmecare my order never arrived" and msgs[0]["direction"] == "in"
    contact = client.get(f"/api/v1/contacts/{ids[0]['contact']}", headers=h).json()
    assert contact["username"] == "c0" and contact["conversations"][0]["id"] == cid
    res = client.post(f"/api/v1/conversations/{cid}/assignments", json={"me": True}, headers=h)
    assert res.status_code == 200 and res.json()["conversation"]["assignee_id"] == people["agent"].id
    mine = client.get("/api/v1/conversations", params={"view": "mine"}, headers=h).json()
    assert [r["conversation_id"] for r in mine["items"]] == [cid]
    assert client.get("/api/v1/conversations/987654", headers=h).status_code == 404


def test_reply_validation_errors_are_clear(client: TestClient, engine, people) -> None:
    h = _bearer(engine, people["agent"].id)
    cid = thread(engine)["conversation"]
    assert (
        client.post(f"/api/v1/conversations/{cid}/replies", json={"text": ""}, headers=h).status_code == 422
    )
    long = client.post(f"/api/v1/conversations/{cid}/replies", json={"text": "x" * 400}, headers=h)
    assert long.status_code in (400, 422) and "280" in long.json()["detail"]


def test_agent_gets_403_on_admin_api_and_admin_gets_200(client: TestClient, engine, people) -> None:
    agent_h = _bearer(engine, people["agent"].id)
    admin_h = _bearer(engine, people["admin"].id)
    assert client.get("/api/v1/users", headers=agent_h).status_code == 403
    assert client.get("/api/v1/audit", headers=agent_h).status_code == 403
    assert (
        client.post(
            "/api/v1/users", json={"username": "eve", "password": "p" * 10, "role": "admin"}, headers=agent_h
        ).status_code
        == 403
    )
    assert users_svc.get_user_by_username(engine, "eve") is None
    made = client.post(
        "/api/v1/users", json={"username": "eve", "password": "p" * 10, "role": "agent"}, headers=admin_h
    )
    assert made.status_code == 201 and made.json()["role"] == "agent"
    assert {u["username"] for u in client.get("/api/v1/users", headers=admin_h).json()} >= {
        "ada",
        "bob",
        "eve",
    }


@SQLITE_ONLY
def test_session_api_needs_csrf_header_and_token_endpoint_works(agent: Browser) -> None:
    assert agent.client.post("/api/v1/tokens", json={"label": "x"}).status_code == 403
    made = agent.post_json("/api/v1/tokens", {"label": "cli"})
    assert made.status_code == 201 and made.json()["token"].startswith("fdk_")
    h = {"Authorization": f"Bearer {made.json()['token']}"}
    assert agent.client.get("/api/v1/conversations", headers=h).status_code == 200
