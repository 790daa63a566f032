"""Golden paths in a real browser (Debian chromium): the inbox and triage in the UI."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from flockdesk.services.team import users as users_svc

from .conftest import ADMIN, PASSWORD, Stack, shot

pytestmark = pytest.mark.browser


def login(page, stack: Stack) -> None:  # type: ignore[no-untyped-def]
    page.goto(stack.url + "/")
    assert "/login" in page.url
    page.fill("#username", ADMIN)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(stack.url + "/")


def test_inbox_golden_path(page, stack: Stack) -> None:  # type: ignore[no-untyped-def]
    org = stack.emu.org_user["username"]
    stack.traffic("airline", 40)
    login(page, stack)
    page.locator("li.row").nth(5).wait_for(timeout=60_000)
    page.reload()
    page.evaluate("window.__sameDocument = true")
    stack.inject(
        text=f"@{org} my flux capacitor order never arrived, can you help?",
        author={"username": "marty_mc", "name": "Marty McFly", "followers_count": 120},
    )
    row = page.locator("li.row", has_text="Marty McFly")
    row.wait_for(timeout=60_000)
    assert page.evaluate("window.__sameDocument") is True, "the page reloaded instead of updating live"
    assert "Public mention" in row.inner_text()
    shot(page, "inbox.png")

    row.locator("a.name").click()
    page.wait_for_url(re.compile(r"/c/\d+$"))
    assert page.locator(".bubble.public").first.is_visible()
    page.click("#assign-me")
    page.wait_for_selector(f"text=assignee: @{ADMIN}")

    page.select_option("#saved", label="Apology")
    expect(page.locator("#reply-text")).to_have_value(re.compile(r"^Hi Marty"))
    assert "Ada here" in page.input_value("#reply-text")
    assert page.locator("#preview").is_visible()
    page.wait_for_selector("#server-count:has-text('server:')")
    page.click("#send")
    page.wait_for_selector("text=Reply queued.")
    try:
        page.wait_for_selector(".status.sent", timeout=60_000)
    except Exception:
        shot(page, "debug-send.png")
        raise AssertionError(page.inner_text("#thread")) from None
    assert page.locator(".bubble.out .label").first.inner_text().lower().startswith("@ public reply")
    shot(page, "conversation.png")

    page.click("#move-to-dm")
    page.wait_for_selector("text=Moved to DM")
    assert page.locator(".convhead .chan.dm").is_visible()
    shot(page, "moved-to-dm.png")
    page.click("#resolve")
    page.wait_for_selector(".convhead .chip:has-text('resolved')")

    page.fill("#q", "capacitor")
    page.press("#q", "Enter")
    page.wait_for_selector("li.row:has-text('Marty McFly')")
    shot(page, "search.png")
    assert not page.console_errors, page.console_errors


def test_triage_banner_guard_and_move_to_dm(page, stack: Stack) -> None:  # type: ignore[no-untyped-def]
    org = stack.emu.org_user["username"]
    login(page, stack)
    stack.inject(
        text=f"@{org} charged twice!! my email is doc.brown@example.com and card ends 4242, fix it",
        author={"username": "doc_brown", "name": "Emmett Brown"},
    )
    row = page.locator("li.row", has_text="Emmett Brown")
    row.wait_for(timeout=60_000)
    assert row.locator(".chip.lock").count() == 1
    row.locator("a.name").click()
    page.wait_for_selector("#sensitive-banner")
    assert "email" in page.inner_text("#sensitive-banner")
    shot(page, "sensitive-banner.png")

    page.click("#reply-text")
    page.keyboard.type("So sorry! Please reply here with your email address and we will check.")
    page.wait_for_selector("#guard.show")
    assert "personal data" in page.inner_text("#guard")
    shot(page, "reply-guard.png")
    page.click("#send")
    assert "/c/" in page.url and page.locator(".status").count() == 0, "a flagged reply was sent"
    page.check("#override")
    page.click("#send")
    page.wait_for_selector("text=Reply queued.")

    page.click("#banner-move-to-dm")
    page.wait_for_selector("text=Moved to DM")
    assert page.locator(".convhead .chan.dm").is_visible()
    page.goto(stack.url + "/inbox/dms")
    page.wait_for_selector("li.row:has-text('Emmett Brown')")
    page.keyboard.press("j")
    page.keyboard.press("?")
    assert page.locator("#help").is_visible()
    page.keyboard.press("Escape")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/c/\d+$"))
    assert not page.console_errors, page.console_errors


def test_admin_connects_x_account_and_manages_listening(page, stack: Stack) -> None:  # type: ignore[no-untyped-def]
    login(page, stack)
    page.goto(stack.url + "/settings/accounts")
    page.select_option("#purpose", "corporate")
    page.fill("#client_id", stack.emu.oauth_client["client_id"])
    page.fill("#base_url", stack.emu.base_url)
    page.click("#connect")
    page.wait_for_selector("text=Connected @", timeout=60_000)
    assert "corporate" in page.inner_text("table.grid")
    shot(page, "settings-accounts.png")
    page.goto(stack.url + "/settings/listening")
    page.fill("#query", '#SkywardAir OR "Skyward Air"')
    page.click("text=Add query")
    page.wait_for_selector("text=Listening query added.")
    assert "$" in page.inner_text("table.grid")
    page.fill("#query", "#")
    page.click("text=Add query")
    page.wait_for_selector(".flash.error")
    shot(page, "settings-listening.png")
    assert not page.console_errors, page.console_errors


def test_presence_and_collision_warning(page, stack: Stack) -> None:  # type: ignore[no-untyped-def]

    users_svc.create_user(stack.engine, "bob", PASSWORD, "agent", name="Bob Builder")
    org = stack.emu.org_user["username"]
    stack.inject(text=f"@{org} where is my bag?", author={"username": "lost_bag", "name": "Lou Luggage"})
    login(page, stack)
    page.locator("li.row", has_text="Lou Luggage").locator("a.name").click()
    page.wait_for_url(re.compile(r"/c/\d+$"))
    ctx2 = page.context.browser.new_context()
    other = ctx2.new_page()
    try:
        other.goto(page.url)
        other.fill("#username", "bob")
        other.fill("#password", PASSWORD)
        other.click("button[type=submit]")
        other.wait_for_selector("#reply-text")
        other.click("#reply-text")
        other.keyboard.type("Hi Lou, checking now")
        page.wait_for_selector("#presence.typing:has-text('bob (typing')", timeout=15_000)
        dialogs: list[str] = []

        def dismiss(d):  # type: ignore[no-untyped-def]
            dialogs.append(d.message)
            d.dismiss()

        page.once("dialog", dismiss)
        page.fill("#reply-text", "We are on it, Lou!")
        page.click("#send")
        page.wait_for_timeout(500)
        assert dialogs and "teammate was typing" in dialogs[0]
        assert page.locator(".status").count() == 0, "the reply was sent despite the collision warning"
        shot(page, "presence.png")
    finally:
        ctx2.close()


def test_hostile_strings_never_execute_in_the_browser(page, stack: Stack) -> None:  # type: ignore[no-untyped-def]
    org = stack.emu.org_user["username"]
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    evil = [
        "<script>alert('x1')</script>",
        '"><img src=x onerror=alert(2)>',
        'javascript:alert(3) https://ok.example/"><svg onload=alert(4)>',
        "\u202etxt.exe \u2066isolate",
    ]
    for i, text in enumerate(evil):
        stack.inject(
            text=f"@{org} {text}",
            author={
                "username": f"evil{i}",
                "name": text + "N" * (10_000 if i == 0 else 0),
                "description": text,
            },
        )
    login(page, stack)
    page.locator("li.row", has_text="evil3").wait_for(timeout=60_000)
    page.locator("li.row", has_text="evil0").wait_for(timeout=60_000)
    assert page.locator("script:not([src])").count() == 0
    shot(page, "hostile-inbox.png")
    for i in range(len(evil)):
        page.locator("li.row", has_text=f"evil{i}").locator("a.name").click()
        page.wait_for_url(re.compile(r"/c/\d+$"))
        hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
        assert all(h.startswith(("/", "#", "http://", "https://")) for h in hrefs), hrefs
        if i == 2:
            shot(page, "hostile-conversation.png")
        page.go_back()
    assert dialogs == [], dialogs
    assert not page.console_errors, page.console_errors


def test_banner_hides_a_sensitive_reply_on_x(page, stack: Stack) -> None:  # type: ignore[no-untyped-def]

    org = stack.emu.org_user["username"]
    login(page, stack)
    root = stack.inject(from_org=True, text="Our winter timetable is live")
    reply = stack.inject(
        text=f"@{org} my card 4111 1111 1111 1111 was charged twice, email me at kim@example.com",
        author={"username": "kim_k", "name": "Kim Kale"},
        in_reply_to=root["id"],
    )
    row = page.locator("li.row", has_text="Kim Kale")
    row.wait_for(timeout=60_000)
    row.locator("a.name").click()
    page.wait_for_selector("#sensitive-banner #banner-hide-reply")
    page.click("#banner-hide-reply")
    page.wait_for_selector("text=The reply is hidden on X")
    expect(page.locator("#reply-hidden-state")).to_be_visible()
    shot(page, "hide-reply.png")
    truth = httpx.get(f"{stack.emu.base_url}/_emulator/truth", timeout=10).json()["posts"]
    assert next(p["hidden"] for p in truth if p["id"] == reply["id"]) is True
    assert not page.console_errors, page.console_errors
