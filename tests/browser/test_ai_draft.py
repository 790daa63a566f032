"""AI drafts in a real browser with the local stand-in model (issue 12 §5): "Suggest a draft" puts a
marked, editable suggestion in the composer; the reply guard runs on it; a person edits and sends it
and the audit says it was AI-drafted; a failing model leaves the composer working."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from flockdesk.emulator.chat_model import DEFAULT_DRAFT, ChatModelServer
from flockdesk.services.team import audit
from flockdesk.store.schema import accounts, outbox
from tests import seed_data

from .conftest import Stack, shot
from .test_golden_path import login

pytestmark = pytest.mark.browser

ASKS_PHONE = "So sorry! What's the best phone number to call you on? Pop it below and we'll ring you today."


@pytest.fixture(scope="module")
def model() -> Iterator[ChatModelServer]:
    with ChatModelServer() as server:
        yield server


@pytest.fixture
def stack_overrides(model: ChatModelServer) -> dict[str, Any]:
    model.set(mode="ok", reply=None)
    return {"ai_url": model.base_url, "ai_timeout_s": 5.0}


def _conversation(stack: Stack) -> int:
    with stack.engine.connect() as conn:
        acct = conn.execute(sa.select(accounts.c.id).limit(1)).scalar_one()
    ct = seed_data.contact(stack.engine, username="bag_lost", name="Bea Baggage")
    cid = seed_data.conversation(stack.engine, acct, ct, channel="mention")
    seed_data.message(stack.engine, cid, "@SkywardAir my bag never arrived in Lisbon", contact_id=ct)
    return cid


def _origins(stack: Stack) -> list[str]:
    with stack.engine.connect() as conn:
        return list(conn.execute(sa.select(outbox.c.origin).order_by(outbox.c.id)).scalars())


def test_suggest_a_draft_edit_it_and_send_it(page, stack: Stack) -> None:  # type: ignore[no-untyped-def]
    cid = _conversation(stack)
    login(page, stack)
    page.goto(f"{stack.url}/c/{cid}")
    assert page.locator("#ai-badge").is_hidden()
    page.click("#ai-draft")
    page.locator("#ai-badge").wait_for(state="visible")
    text = page.locator("#reply-text")
    assert text.input_value() == DEFAULT_DRAFT
    badge = page.locator("#ai-badge")
    assert badge.is_visible() and "AI suggestion" in badge.inner_text()
    assert "ai-suggested" in (text.get_attribute("class") or "")
    assert text.get_attribute("aria-describedby") == "ai-badge"
    assert "review and edit" in page.locator("#ai-status").inner_text()
    assert page.locator("#guard").is_hidden()
    shot(page, "ai-draft-suggested.png")

    # a person edits it: still marked as a suggestion until sent
    text.fill(DEFAULT_DRAFT.replace("Sorry to hear about this", "So sorry, Bea"))
    assert badge.is_visible()
    page.click("#send")
    page.wait_for_url(f"{stack.url}/c/{cid}?notice=*")
    assert _origins(stack) == ["ai_draft"]
    (event,) = audit.list_events(stack.engine, action="reply.queue")
    assert event.details["ai_drafted"] is True
    assert page.console_errors == []  # type: ignore[attr-defined]


def test_the_guard_flags_a_draft_that_asks_for_a_phone_number(
    page, stack: Stack, model: ChatModelServer
) -> None:  # type: ignore[no-untyped-def]
    model.set(reply=ASKS_PHONE)
    cid = _conversation(stack)
    login(page, stack)
    page.goto(f"{stack.url}/c/{cid}")
    page.click("#ai-draft")
    guard = page.locator("#guard")
    guard.wait_for(state="visible")
    assert page.locator("#reply-text").input_value() == ASKS_PHONE
    assert "asks the customer for personal data" in page.locator("#guard-text").inner_text()
    shot(page, "ai-draft-flagged.png")
    page.click("#send")
    # not sent: the guard wants the person to fix it (or to take responsibility)
    expect(page.locator("#override")).to_be_focused()
    assert _origins(stack) == []


def test_a_failing_model_never_blocks_the_composer(page, stack: Stack, model: ChatModelServer) -> None:  # type: ignore[no-untyped-def]
    model.set(mode="error")
    cid = _conversation(stack)
    login(page, stack)
    page.goto(f"{stack.url}/c/{cid}")
    page.click("#ai-draft")
    status = page.locator("#ai-status.error")
    status.wait_for(state="visible")
    assert "HTTP 500" in status.inner_text()
    assert page.locator("#reply-text").input_value() == ""
    assert page.locator("#ai-badge").is_hidden()
    page.fill("#reply-text", "So sorry! We're looking for your bag now.")
    page.click("#send")
    page.wait_for_url(f"{stack.url}/c/{cid}?notice=*")
    assert _origins(stack) == ["agent"]
