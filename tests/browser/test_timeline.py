"""The activity timeline in a real browser: assign and resolve a conversation in the UI, and the
timeline on its page shows both, at desktop width and at 390 px."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from flockdesk.store.schema import accounts
from tests import seed_data

from .conftest import ADMIN, Stack, shot
from .test_golden_path import login
from .test_phone_layout import _overflow

pytestmark = pytest.mark.browser


def _seed(stack: Stack) -> int:
    with stack.engine.connect() as conn:
        acct = conn.execute(sa.select(accounts.c.id).limit(1)).scalar_one()
    ct = seed_data.contact(stack.engine, username="tilly", name="Tilly Timeline")
    cid = seed_data.conversation(stack.engine, acct, ct, priority=0.8)
    seed_data.message(stack.engine, cid, "@acme my suitcase went to Oslo without me", contact_id=ct)
    return cid


def test_assign_and_resolve_show_in_the_timeline(page, stack: Stack) -> None:  # type: ignore[no-untyped-def]
    cid = _seed(stack)
    page.set_viewport_size({"width": 1440, "height": 900})
    login(page, stack)
    page.goto(f"{stack.url}/c/{cid}")
    assert page.locator("#activity li", has_text="No changes recorded yet.").is_visible()

    page.click("#assign-me")
    page.wait_for_selector("text=Assigned to you.")
    page.click("#resolve")
    page.wait_for_selector("text=Resolved.")

    timeline = page.locator("#activity")
    assert timeline.get_attribute("open") is not None  # two changes: shown open
    assign = timeline.locator("li.tl-assign")
    resolve = timeline.locator("li.tl-resolve")
    assert re.search(rf"{ADMIN}\s+assigned it", assign.inner_text())
    assert "assignee: none" in assign.inner_text() and f"@{ADMIN}" in assign.inner_text()
    assert re.search(rf"{ADMIN}\s+resolved it", resolve.inner_text())
    assert "status: open" in resolve.inner_text() and "resolved" in resolve.inner_text()
    assert re.search(r"\d+s ago · \d{4}-\d\d-\d\d \d\d:\d\d UTC", resolve.inner_text())
    # the arrow is read as "changed to"
    assert resolve.locator(".sr-only", has_text="changed to").count() >= 1
    timeline.scroll_into_view_if_needed()
    shot(page, "timeline-1440.png")

    # keyboard: the summary is a focusable toggle
    page.focus("#activity summary")
    page.keyboard.press("Enter")
    assert timeline.get_attribute("open") is None
    page.keyboard.press("Enter")
    assert timeline.get_attribute("open") is not None

    # the audit log shows the same two changes, linked to the conversation
    page.goto(f"{stack.url}/settings/audit?source=history")
    changes = page.locator("table.audit tr.history")
    assert [changes.nth(i).locator("td").nth(2).inner_text().split()[0] for i in range(2)] == [
        "conversation.resolve",
        "conversation.assign",
    ]
    assert "status: open" in changes.nth(0).inner_text()
    assert changes.nth(0).locator(f'a[href="/c/{cid}"]').is_visible()
    shot(page, "audit-1440.png")

    page.set_viewport_size({"width": 390, "height": 844})
    assert _overflow(page) == 0, "the audit log scrolls in its own region, not the page"
    shot(page, "audit-390.png")
    page.goto(f"{stack.url}/c/{cid}")
    assert _overflow(page) == 0
    shot(page, "conversation-390-top.png")
    timeline.scroll_into_view_if_needed()
    box = timeline.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert resolve.is_visible() and assign.is_visible()
    shot(page, "timeline-390.png")
    assert page.console_errors == []  # type: ignore[attr-defined]
