"""Team @mentions in notes: the mentioned teammate gets a badge, a /mentions list, and can mark read."""

from __future__ import annotations

import re

import sqlalchemy as sa

from flockdesk.services.conversations import actions as conv_svc
from flockdesk.services.team import note_mentions as mentions_svc
from flockdesk.store.schema import note_mentions

from .conftest import Browser
from .seed import thread

BADGE_RE = re.compile(r'<span class="badge" id="mentions-badge"\s*(hidden)?[^>]*>(\d+)</span>')


def _badge(b: Browser) -> int:
    m = BADGE_RE.search(b.client.get("/").text)
    assert m is not None
    count = int(m.group(2))
    assert (m.group(1) == "hidden") == (count == 0)
    return count


def test_mention_in_note_notifies_the_teammate_until_read(
    admin: Browser, agent: Browser, engine, people
) -> None:
    t = thread(engine, name="Casey Customer", text="@acmecare where is order 123?")
    cid = t["conversation"]
    assert _badge(agent) == 0
    resp = admin.post(f"/c/{cid}/note", {"text": "@bob can you take this one? cc @nobody"})
    assert resp.status_code == 303
    assert _badge(agent) == 1
    assert _badge(admin) == 0  # the author is not notified
    page = agent.client.get("/mentions").text
    assert "can you take this one?" in page and "Casey Customer" in page and f'href="/c/{cid}"' in page
    assert '@<bdi class="u">ada</bdi>' in page and 'class="mention unread"' in page
    assert agent.client.get("/mentions/count").json() == {"unread": 1}
    note_id = int(re.search(r'data-note="(\d+)"', page).group(1))  # type: ignore[union-attr]
    assert agent.post("/mentions/read", {"note_id": str(note_id)}).status_code == 303
    assert _badge(agent) == 0
    after = agent.client.get("/mentions").text
    assert 'class="mention read"' in after and 'class="mention unread"' not in after
    with engine.connect() as conn:
        row = conn.execute(sa.select(note_mentions).where(note_mentions.c.note_id == note_id)).one()
    assert row.user_id == people["agent"].id and row.read_at is not None


def test_opening_the_conversation_reads_its_mentions_and_mark_all(agent: Browser, engine, people) -> None:
    a = thread(engine, username="one", name="One")
    b = thread(engine, username="two", name="Two")
    conv_svc.add_note(engine, a["conversation"], people["admin"].id, "@bob first")
    conv_svc.add_note(engine, b["conversation"], people["manager"].id, "@BOB second")
    assert mentions_svc.unread_count(engine, people["agent"].id) == 2
    agent.client.get(f"/c/{a['conversation']}")
    assert mentions_svc.unread_count(engine, people["agent"].id) == 1
    assert agent.post("/mentions/read", {}).status_code == 303
    assert mentions_svc.unread_count(engine, people["agent"].id) == 0
    listed = mentions_svc.list_for_user(engine, people["agent"].id)
    assert [m.text for m in listed] == ["@BOB second", "@bob first"] and all(m.read_at for m in listed)


def test_mentions_are_per_user_and_bad_ids_get_advice(
    agent: Browser, manager: Browser, engine, people
) -> None:
    t = thread(engine)
    conv_svc.add_note(engine, t["conversation"], people["admin"].id, "@max and @bob look")
    # bob marking his own mention read leaves max's unread
    nid = mentions_svc.list_for_user(engine, people["agent"].id)[0].note_id
    mentions_svc.mark_read(engine, people["agent"].id, nid)
    assert mentions_svc.unread_count(engine, people["manager"].id) == 1
    resp = agent.post("/mentions/read", {"note_id": "abc"})
    assert resp.status_code == 303 and "error=" in resp.headers["location"]


def test_hostile_note_text_is_escaped_on_the_mentions_page(agent: Browser, engine, people) -> None:
    t = thread(engine, name="<img src=x onerror=alert(1)>")
    conv_svc.add_note(engine, t["conversation"], people["admin"].id, "@bob <script>alert(1)</script>")
    page = agent.client.get("/mentions").text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "<img src=x" not in page
