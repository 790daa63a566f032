"""The inbox and conversation pages drive the inbox services: actions, composer, presence, search."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import sqlalchemy as sa

from flockdesk.store.schema import alerts, audit_events, conversations, outbox

from .conftest import SQLITE_ONLY, Browser
from .seed import insert, thread


def _conv(engine, cid: int) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(sa.select(conversations).where(conversations.c.id == cid)).one()._mapping)


def test_inbox_lists_rows_with_channel_labels_chips_and_clock(agent: Browser, engine) -> None:
    pub = thread(
        engine,
        text="@acmecare where is my refund",
        name="Pat Public",
        intent="complaint",
        sentiment="negative",
        sensitive=["order_number"],
        urgent=True,
        priority=0.9,
    )
    dm = thread(
        engine, text="private question", name="Dana Direct", kind="dm", intent="question", sentiment="neutral"
    )
    html = agent.client.get("/").text
    assert "Pat Public" in html and "Dana Direct" in html
    assert "Public mention" in html and "Private DM" in html
    assert "chip intent-complaint" in html and "chip sent-negative" in html and 'class="chip lock"' in html
    assert 'class="clock sla-' in html and "Priority" in html and "urgent" in html
    dms = agent.client.get("/inbox/dms").text
    assert "Dana Direct" in dms and "Pat Public" not in dms
    filtered = agent.client.get("/inbox/all?intent=complaint").text
    assert "Pat Public" in filtered and "Dana Direct" not in filtered
    sens = agent.client.get("/inbox/all?sensitive=yes").text
    assert "Pat Public" in sens and "Dana Direct" not in sens
    assert pub["conversation"] != dm["conversation"]


@SQLITE_ONLY
def test_unknown_view_is_404_with_advice(agent: Browser) -> None:
    resp = agent.client.get("/inbox/nonsense")
    assert resp.status_code == 404 and "Pick one from the list" in resp.text


def test_load_more_pages_by_keyset_without_repeats(agent: Browser, engine) -> None:
    ids = {
        thread(engine, name=f"Person {i}", username=f"p{i}", priority=i / 100)["conversation"]
        for i in range(60)
    }
    first = agent.client.get("/inbox/all").text
    assert "Load more" in first

    more = re.search(r'data-more="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = agent.client.get(more.replace("/inbox/all?", "/inbox/all/rows?")).text
    seen1 = set(map(int, re.findall(r'<li class="row" data-id="(\d+)"', first)))
    seen2 = set(map(int, re.findall(r'<li class="row" data-id="(\d+)"', second)))
    assert len(seen1) == 50 and seen1.isdisjoint(seen2) and seen1 | seen2 == ids


def test_conversation_actions(agent: Browser, engine, people) -> None:
    cid = thread(engine, name="Jane Doe", bio="Coffee fan")["conversation"]
    page = agent.client.get(f"/c/{cid}").text
    assert "Jane Doe" in page and "Coffee fan" in page and "Public thread on X" in page
    assert agent.post(f"/c/{cid}/assign", {"assignee": "me"}).status_code == 303
    assert _conv(engine, cid)["assignee_id"] == people["agent"].id
    agent.post(f"/c/{cid}/assign", {"assignee": str(people["admin"].id)})
    assert _conv(engine, cid)["assignee_id"] == people["admin"].id
    agent.post(f"/c/{cid}/tag", {"name": "billing"})
    agent.post(f"/c/{cid}/note", {"text": "@ada please check the refund"})
    page = agent.client.get(f"/c/{cid}").text
    assert (
        '#<bdi class="u">billing</bdi>' in page
        and "Internal note" in page
        and "please check the refund" in page
    )
    r = agent.post(f"/c/{cid}/snooze", {"until": "2099-01-01T09:00"})
    assert "error" not in r.headers["location"]
    assert _conv(engine, cid)["status"] == "snoozed"
    bad = agent.post(f"/c/{cid}/snooze", {"until": "tomorrow-ish"})
    assert "error=" in bad.headers["location"]
    agent.post(f"/c/{cid}/resolve")
    assert _conv(engine, cid)["status"] == "resolved"
    agent.post(f"/c/{cid}/reopen")
    assert _conv(engine, cid)["status"] == "open"
    agent.post(f"/c/{cid}/follow-up")
    c = _conv(engine, cid)
    assert c["status"] == "snoozed" and c["follow_up_at"] is not None
    with engine.connect() as conn:
        actions = set(conn.execute(sa.select(audit_events.c.action)).scalars())
    assert len(actions) >= 5


@SQLITE_ONLY
def test_missing_conversation_is_404(agent: Browser) -> None:
    assert agent.client.get("/c/999999").status_code == 404


def test_reply_via_api_is_queued_in_outbox_and_shown(agent: Browser, engine) -> None:
    cid = thread(engine)["conversation"]
    resp = agent.post_json(
        f"/api/v1/conversations/{cid}/replies",
        {"text": "Sorry about that! Send us a DM and we'll sort it.", "idempotency_key": "k1"},
    )
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["status"] == "queued" and body["kind"] == "reply"
    again = agent.post_json(
        f"/api/v1/conversations/{cid}/replies",
        {"text": "Sorry about that! Send us a DM and we'll sort it.", "idempotency_key": "k1"},
    )
    assert again.json()["id"] == body["id"]
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(outbox)).scalar() == 1
    page = agent.client.get(f"/c/{cid}").text
    assert "Queued" in page and "Public reply on X" in page


def test_guard_refuses_public_ask_for_email_until_override(agent: Browser, engine) -> None:
    cid = thread(engine)["conversation"]
    text = "Please reply here with your email address so we can check"
    chk = agent.post_json("/api/v1/check-reply", {"text": text})
    assert chk.status_code == 200 and chk.json()["flagged"] and chk.json()["asks_for_sensitive"]
    refused = agent.post_json(f"/api/v1/conversations/{cid}/replies", {"text": text})
    assert refused.status_code == 422 and refused.json()["reason"] == "guard_flagged"
    ok = agent.post_json(f"/api/v1/conversations/{cid}/replies", {"text": text, "override_guard": True})
    assert ok.status_code == 201
    with engine.connect() as conn:
        actions = list(conn.execute(sa.select(audit_events.c.action)).scalars())
    assert "reply.guard_override" in actions


@SQLITE_ONLY
def test_dm_conversation_counts_dm_length(agent: Browser, engine) -> None:
    chk = agent.post_json("/api/v1/check-reply", {"text": "x" * 500, "kind": "dm"})
    assert chk.json()["limit"] == 10_000 and chk.json()["valid"] and not chk.json()["flagged"]
    post = agent.post_json("/api/v1/check-reply", {"text": "x" * 300})
    assert post.json()["weighted_length"] == 300 and not post.json()["valid"]


def test_sensitive_public_message_shows_banner_and_moves_to_dm(agent: Browser, engine) -> None:
    ids = thread(
        engine,
        text="@acmecare my email is jane@example.com, fix my booking",
        sensitive=["email"],
        move_to_dm=True,
    )
    page = agent.client.get(f"/c/{ids['conversation']}").text
    assert 'id="sensitive-banner"' in page and "email" in page
    resp = agent.post(f"/c/{ids['conversation']}/move-to-dm")
    assert resp.status_code == 303 and "/c/" in resp.headers["location"]
    assert "error" not in resp.headers["location"], resp.headers["location"]
    public = _conv(engine, ids["conversation"])
    assert public["linked_conversation_id"] is not None
    with engine.connect() as conn:
        ack = conn.execute(sa.select(outbox).where(outbox.c.kind == "public_ack")).one()
    assert "jane@example.com" not in ack.text and "x.com/messages/compose" in ack.text
    dm_page = agent.client.get(resp.headers["location"]).text
    assert "Private DM" in dm_page
    assert 'id="sensitive-banner"' not in agent.client.get(f"/c/{ids['conversation']}").text


def test_saved_reply_preview_renders_variables(manager: Browser, agent: Browser, engine) -> None:
    assert (
        manager.post(
            "/settings/saved-replies",
            {"name": "Thanks", "body": "Thanks {{contact.name}}! {{agent.first_name}} here."},
        ).status_code
        == 303
    )
    cid = thread(engine, name="Jane Doe")["conversation"]
    page = agent.client.get(f"/c/{cid}").text

    sid = re.search(r'<option value="(\d+)">Thanks</option>', page).group(1)
    res = agent.client.get(f"/c/{cid}/saved-reply/{sid}").json()
    assert res["text"].startswith("Thanks Jane") and "Bob here." in res["text"]
    assert res["length"]["weighted_length"] == len(res["text"])
    bad = manager.post("/settings/saved-replies", {"name": "Bad", "body": "Hi {{contact.shoe_size}}"})
    assert "error=" in bad.headers["location"]


@SQLITE_ONLY
def test_presence_shows_other_viewers_and_typing(agent: Browser, admin: Browser, engine) -> None:
    cid = thread(engine)["conversation"]
    assert admin.post_json(f"/c/{cid}/presence", {"typing": True}).status_code == 200
    res = agent.post_json(f"/c/{cid}/presence", {"typing": False}).json()
    assert res["others"] == [{"username": "ada", "typing": True}]
    admin.post_json(f"/c/{cid}/presence", {"leave": True})
    assert agent.post_json(f"/c/{cid}/presence", {}).json()["others"] == []


def test_search_finds_message_text(agent: Browser, engine) -> None:
    thread(engine, text="the flux capacitor is broken", name="Doc Brown")
    thread(engine, text="unrelated praise", name="Marty")
    html = agent.client.get("/search?q=capacitor").text
    assert "Doc Brown" in html and "Marty" not in html
    assert "No messages match" in agent.client.get("/search?q=zzzzqqq").text


def test_spike_alert_banner_shows_until_acknowledged(agent: Browser, engine) -> None:
    insert(
        engine,
        alerts,
        kind="spike",
        at=datetime.now(UTC),
        details={
            "what": "negative or urgent inbound messages in the last hour",
            "current": 42,
            "baseline_mean": 3.5,
        },
        delivered=False,
    )
    page = agent.client.get("/").text
    assert 'id="spike-alert"' in page and "42 negative or urgent" in page and "about 3.5 an hour" in page

    action = re.search(r'action="(/alerts/\d+/ack)"', page).group(1)
    assert agent.post(action).status_code == 303
    assert 'id="spike-alert"' not in agent.client.get("/").text


def test_empty_views_say_what_belongs_there(agent: Browser) -> None:
    resolved = agent.client.get("/inbox/resolved").text
    assert "No resolved conversations." in resolved and "appear live" not in resolved
    snoozed = agent.client.get("/inbox/snoozed").text
    assert "No snoozed conversations." in snoozed and "appear live" not in snoozed
    filtered = agent.client.get("/inbox/all?intent=lead").text
    assert "Nothing matches these filters" in filtered and 'href="/inbox/all"' in filtered
    assert "Nothing here. New messages appear live." in agent.client.get("/inbox/all").text


def test_a_resolved_row_shows_resolved_not_a_waiting_clock(agent: Browser, engine) -> None:
    t = thread(engine, text="thanks, all sorted", name="Rita Resolved")
    with engine.begin() as conn:
        conn.execute(
            conversations.update().where(conversations.c.id == t["conversation"]).values(status="resolved")
        )
    html = agent.client.get("/inbox/resolved").text
    row = html[html.index("Rita Resolved") :]
    row = row[: row.index("</li>")]
    assert 'title="Resolved">resolved</span>' in row
    assert "Waiting since" not in row and "sla-green" not in row
