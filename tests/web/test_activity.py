"""The conversation page's activity timeline and the audit log show a conversation's state changes:
who, what, from, to, when; hostile names stay inert."""

from __future__ import annotations

import re

from sqlalchemy import Engine

from flockdesk.services.conversations import actions as conv_svc
from flockdesk.services.team import users as users_svc

from .conftest import PASSWORD, SQLITE_ONLY, Browser
from .seed import thread

EVIL = "<img/src=x/onerror=alert(1)>"
EVIL_SHOWN = "&lt;img/src=x/onerror=alert(1)&gt;"
# "from -> to": the arrow is hidden from screen readers, which hear "changed to"
ARROW = '<span aria-hidden="true">&rarr;</span><span class="sr-only">changed to</span>'


def _activity(html: str) -> str:
    m = re.search(r'<section class="activity".*?</section>', html, re.S)
    assert m is not None, "no activity section on the page"
    return m.group(0)


def test_the_timeline_shows_who_changed_what_from_and_to(agent: Browser, engine: Engine, people) -> None:
    cid = thread(engine)["conversation"]
    evil = users_svc.create_user(engine, EVIL, PASSWORD, "agent")
    assert agent.post(f"/c/{cid}/assign", {"assignee": str(evil.id)}).status_code == 303
    conv_svc.resolve(engine, cid, evil.id)
    conv_svc.add_tag(engine, cid, evil.id, "refund")

    html = agent.client.get(f"/c/{cid}").text
    section = _activity(html)
    assert '<details id="activity" open>' in section  # short: open
    items = re.findall(r'<li class="tl-(\w+)"', section)
    assert items == ["assign", "resolve", "tag"]
    assign, resolve, _ = re.split(r'<li class="tl-', section)[1:]
    assert "bob" in assign and "assigned it" in assign
    assert "assignee:" in assign and EVIL_SHOWN in assign
    assert EVIL_SHOWN in resolve and "resolved it" in resolve
    assert f"status: open {ARROW} resolved" in resolve
    assert re.search(r'<time datetime="[^"]+" title="\d{4}-\d\d-\d\d \d\d:\d\d UTC">\d+s ago</time>', resolve)
    assert "<img/src=x" not in html


def test_a_long_timeline_starts_collapsed(agent: Browser, engine: Engine, people) -> None:
    cid = thread(engine)["conversation"]
    for _ in range(3):
        conv_svc.resolve(engine, cid, people["agent"].id)
        conv_svc.reopen(engine, cid, people["agent"].id)
    section = _activity(agent.client.get(f"/c/{cid}").text)
    assert '<details id="activity">' in section and "6 changes" in section


def test_the_audit_log_lists_conversation_changes_with_admin_actions(
    admin: Browser, agent: Browser, engine: Engine, people
) -> None:
    cid = thread(engine)["conversation"]
    evil = users_svc.create_user(engine, EVIL, PASSWORD, "agent", actor_id=people["admin"].id)
    conv_svc.assign(engine, cid, people["agent"].id, evil.id)
    conv_svc.resolve(engine, cid, evil.id)

    html = admin.client.get("/settings/audit").text
    assert "user.create" in html and "conversation.assign" in html and "conversation.resolve" in html
    assert html.count("<td>conversation.resolve") == 1  # its own audit row is left to the history
    assert f"status: open {ARROW} resolved" in html
    assert re.search(re.escape(f'assignee: <span class="muted">none</span> {ARROW} @'), html)
    assert f'<a href="/c/{cid}">conversation {cid}</a>' in html
    assert EVIL_SHOWN in html and "<img/src=x" not in html

    only_changes = admin.client.get("/settings/audit", params={"source": "history"}).text
    assert "<td>user.create" not in only_changes and "<td>conversation.assign" in only_changes
    raw = admin.client.get("/settings/audit", params={"source": "audit"}).text
    assert "<td>conversation.resolve" in raw and "status: open" not in raw
    by_evil = admin.client.get(
        "/settings/audit", params={"actor": str(evil.id), "action": "conversation.resolve"}
    ).text
    assert "<td>conversation.resolve" in by_evil and "<td>conversation.assign" not in by_evil
    assert agent.client.get("/settings/audit").status_code == 403


def test_the_audit_log_pages_and_keeps_its_filters(admin: Browser, engine: Engine, people) -> None:
    cid = thread(engine)["conversation"]
    for _ in range(55):
        conv_svc.resolve(engine, cid, people["agent"].id)
        conv_svc.reopen(engine, cid, people["agent"].id)
    first = admin.client.get("/settings/audit", params={"source": "history"}).text
    assert first.count('<tr class="history">') == 100
    more = re.search(r'<a class="more" href="([^"]+)" id="audit-older">', first)
    assert more is not None and "source=history" in more.group(1)
    second = admin.client.get(more.group(1).replace("&amp;", "&")).text
    assert second.count('<tr class="history">') == 10 and 'id="audit-older"' not in second


@SQLITE_ONLY
def test_bad_audit_filters_say_what_to_fix(admin: Browser) -> None:
    resp = admin.client.get("/settings/audit", params={"since": "yesterday"})
    assert resp.status_code == 400 and "YYYY-MM-DD" in resp.text
    resp = admin.client.get("/settings/audit", params={"after": "garbage"})
    assert resp.status_code == 400 and "page link is not valid" in resp.text
