"""The inbox, a conversation and the settings at 390 px wide (a phone): nothing wider than the screen, the
views above the page, the first conversation on the first screen, and the filters one tap away."""

from __future__ import annotations

import re

import pytest

from .conftest import Stack, shot
from .test_golden_path import login

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def _overflow(page) -> int:  # type: ignore[no-untyped-def]
    """How many CSS pixels the page is wider than the screen (0 when nothing scrolls sideways)."""
    return int(page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth"))


def test_the_inbox_and_a_conversation_work_at_390_px(page, stack: Stack) -> None:  # type: ignore[no-untyped-def]
    page.set_viewport_size(PHONE)
    stack.traffic("airline", 20)
    login(page, stack)
    page.locator("li.row").nth(3).wait_for(timeout=60_000)
    page.reload()

    assert _overflow(page) == 0
    nav = page.locator("nav.sidenav").bounding_box()
    main = page.locator("main#main").bounding_box()
    assert nav is not None and main is not None
    assert nav["y"] + nav["height"] <= main["y"] + 1, "the views strip sits above the page, not beside it"
    assert main["width"] >= PHONE["width"] - 2, "the page gets the whole width"
    first = page.locator("li.row").first.bounding_box()
    assert first is not None and first["y"] < PHONE["height"], "a conversation is on the first screen"
    assert first["x"] + first["width"] <= PHONE["width"]

    filters = page.locator("#filters-box")
    assert filters.get_attribute("open") is None, "the filters are folded on a phone"
    page.click("#filters-box > summary")
    page.locator("#filters select[name=channel]").wait_for(state="visible")
    assert _overflow(page) == 0
    shot(page, "phone-inbox.png")

    page.locator("li.row a.name").first.click()
    page.wait_for_url(re.compile(r"/c/\d+$"))
    assert _overflow(page) == 0
    bubble = page.locator("#thread .bubble").first.bounding_box()
    contact = page.locator("aside.contact").bounding_box()
    assert bubble is not None and contact is not None
    assert bubble["width"] > PHONE["width"] / 2, "the thread is not squeezed into a sliver"
    assert contact["y"] > bubble["y"], "the contact panel comes under the thread"
    reply = page.locator("#reply-text")
    reply.wait_for(state="visible")
    box = reply.bounding_box()
    assert box is not None and box["x"] + box["width"] <= PHONE["width"]
    shot(page, "phone-conversation.png")

    for path in (
        "/settings/accounts",
        "/settings/users",
        "/settings/listening",
        "/settings/audit",
        "/profile",
    ):
        page.goto(stack.url + path)
        assert _overflow(page) == 0, path
    assert not page.console_errors, page.console_errors
