"""Inbox follow-ups in a real browser: rows that leave a filtered view go away; the mentions badge is live."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from flockdesk.services.conversations import actions as conv_svc
from flockdesk.services.team import users as users_svc
from flockdesk.store.schema import accounts, conversations
from tests import seed_data

from .conftest import ADMIN, Stack, shot
from .test_golden_path import login

pytestmark = pytest.mark.browser


def _seed_unassigned(stack: Stack, names: list[str]) -> list[int]:
    with stack.engine.connect() as conn:
        acct = conn.execute(sa.select(accounts.c.id).limit(1)).scalar_one()
    ids = []
    for i, name in enumerate(names):
        ct = seed_data.contact(stack.engine, username=f"cust{i}", name=name)
        cid = seed_data.conversation(stack.engine, acct, ct, priority=0.9 - i * 0.1)
        seed_data.message(stack.engine, cid, f"@acme help me please, I am {name}", contact_id=ct)
        ids.append(cid)
    return ids


def test_assigning_in_unassigned_view_removes_the_row(page, stack: Stack) -> None:  # type: ignore[no-untyped-def]
    ids = _seed_unassigned(stack, ["Alma First", "Bert Second", "Cleo Third"])
    login(page, stack)
    page.goto(stack.url + "/inbox/unassigned")
    rows = page.locator("li.row")
    rows.nth(2).wait_for()
    assert rows.count() == 3
    page.keyboard.press("j")
    page.keyboard.press("j")  # select the second row (Bert)
    assert "Bert Second" in page.locator("li.row.selected").inner_text()
    page.keyboard.press("a")
    page.locator("li.row", has_text="Bert Second").wait_for(state="detached")
    assert rows.count() == 2
    assert page.locator("li.row", has_text="unassigned").count() == 2
    # the selection moves to the row that took its place, so j/k/a keep working
    assert "Cleo Third" in page.locator("li.row.selected").inner_text()
    with stack.engine.connect() as conn:
        owner = conn.execute(
            sa.select(conversations.c.assignee_id).where(conversations.c.id == ids[1])
        ).scalar()
    assert owner == users_svc.get_user_by_username(stack.engine, ADMIN).id  # type: ignore[union-attr]
    shot(page, "unassigned-after-assign.png")
    page.keyboard.press("a")  # assign Cleo too: the selection falls back to the last remaining row
    page.locator("li.row", has_text="Cleo Third").wait_for(state="detached")
    assert "Alma First" in page.locator("li.row.selected").inner_text()
    assert page.console_errors == []  # type: ignore[attr-defined]


def test_mentions_badge_updates_live(page, stack: Stack) -> None:  # type: ignore[no-untyped-def]
    (cid,) = _seed_unassigned(stack, ["Dora Customer"])
    mate = users_svc.create_user(stack.engine, "tess", "teammate password", "agent")
    login(page, stack)
    badge = page.locator("#mentions-badge")
    assert badge.is_hidden()
    page.evaluate("window.__sameDocument = true")
    conv_svc.add_note(stack.engine, cid, mate.id, f"@{ADMIN} could you check this refund?")
    page.wait_for_selector("#mentions-badge:not([hidden])", timeout=60_000)
    assert badge.inner_text() == "1"
    assert page.evaluate("window.__sameDocument") is True
    page.click("#nav-mentions")
    page.wait_for_url(stack.url + "/mentions")
    assert "could you check this refund?" in page.inner_text("#mention-list")
    page.click("text=Mark read")
    page.wait_for_selector("text=Marked 1 mention read.")
    assert page.locator("#mentions-badge").is_hidden()
    assert page.console_errors == []  # type: ignore[attr-defined]
