"""Every triage label filters the inbox page and /api/v1/conversations; rows say which account."""

from __future__ import annotations

from flockdesk.services.team import users as users_svc
from flockdesk.store.schema import accounts

from .conftest import Browser
from .seed import T0, contact, conversation, insert, message, thread


def _seed(engine) -> dict[str, int]:
    convs = {
        "urgent": thread(engine, username="u1", name="Uma Urgent", urgent=True, intent="complaint"),
        "dm": thread(engine, username="u2", name="Mo Movetodm", move_to_dm=True, sentiment="negative"),
        "infl": thread(engine, username="u3", name="Ike Influencer", influencer=True, sentiment="positive"),
        "plain": thread(engine, username="u4", name="Pia Plain", intent="question", sensitive=["email"]),
    }
    return {k: v["conversation"] for k, v in convs.items()}


def _names(html: str) -> set[str]:
    return {n for n in ("Uma Urgent", "Mo Movetodm", "Ike Influencer", "Pia Plain") if n in html}


def test_inbox_page_filters_by_each_label(agent: Browser, engine) -> None:
    _seed(engine)
    get = lambda q: _names(agent.client.get(f"/inbox/all?{q}").text)  # noqa: E731
    assert get("urgent=yes") == {"Uma Urgent"}
    assert get("urgent=no") == {"Mo Movetodm", "Ike Influencer", "Pia Plain"}
    assert get("move_to_dm=yes") == {"Mo Movetodm"}
    assert get("influencer=yes") == {"Ike Influencer"}
    assert get("influencer=no&sentiment=negative") == {"Mo Movetodm"}
    assert get("intent=question") == {"Pia Plain"}
    assert get("sensitive=yes") == {"Pia Plain"}
    assert get("sentiment=positive") == {"Ike Influencer"}
    html = agent.client.get("/inbox/all?move_to_dm=yes").text
    assert '<option value="yes" selected>Should move to DM</option>' in html
    # an unknown value is ignored rather than an error
    assert get("urgent=maybe") == {"Uma Urgent", "Mo Movetodm", "Ike Influencer", "Pia Plain"}


def test_api_filters_by_each_label(client, engine, people) -> None:
    ids = _seed(engine)
    h = {"Authorization": f"Bearer {users_svc.create_api_token(engine, people['agent'].id, 't')}"}

    def got(q: str) -> set[int]:
        resp = client.get(f"/api/v1/conversations?{q}", headers=h)
        assert resp.status_code == 200, resp.text
        return {i["conversation_id"] for i in resp.json()["items"]}

    assert got("urgent=true") == {ids["urgent"]}
    assert got("move_to_dm=true") == {ids["dm"]}
    assert got("influencer=true") == {ids["infl"]}
    assert got("influencer=false&urgent=false") == {ids["dm"], ids["plain"]}
    assert got("intent=complaint") == {ids["urgent"]}
    assert got("sentiment=negative&move_to_dm=true") == {ids["dm"]}
    assert got("sensitive=true") == {ids["plain"]}
    assert client.get("/api/v1/conversations?urgent=perhaps", headers=h).status_code == 422


def test_rows_name_the_account_only_when_several_are_connected(agent: Browser, engine) -> None:
    first = thread(engine, name="Only Account")
    assert "via @" not in agent.client.get("/").text
    other = insert(
        engine,
        accounts,
        platform="x",
        external_user_id="999",
        username="acmesales",
        display_name="Acme Sales",
        purpose="corporate",
        base_url="http://127.0.0.1:1",
        credentials_encrypted=b"x",
        active=True,
        created_at=T0,
    )
    ct = contact(engine, username="sal", name="Sally Sales")
    conv = conversation(engine, other, ct)
    message(engine, conv, ct, "@acmesales do you ship to Mars?")
    html = agent.client.get("/").text
    assert 'via @<bdi class="u">acmesales</bdi>' in html and 'via @<bdi class="u">acmecare</bdi>' in html
    rows = agent.client.get("/inbox/all/rows").text
    assert "via @" in rows and first["conversation"] != conv
