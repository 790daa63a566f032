"""An X Chat conversation in a real browser (issue 8): a customer who first wrote a legacy DM and then
an end-to-end encrypted X Chat message (encrypted with chatxdk by the emulator's customer) has one DM
thread, the chat shown decrypted; the agent answers from the composer, the reply goes out by X Chat,
and the emulator's customer can decrypt and verify it."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from flockdesk.emulator import chat as emu_chat
from flockdesk.services.accounts import xchat_keys
from flockdesk.store.schema import accounts, conversations, messages

from .conftest import ARTIFACTS, Stack, shot, wait_until
from .test_golden_path import login

pytestmark = pytest.mark.browser

LEGACY = "Hi, my suitcase never arrived in Denver"
CHAT = "Writing on X Chat now: the tag number is on my boarding pass photo"
REPLY = "Thanks Nora, we found your suitcase: it arrives in Denver tonight."


def _stored(stack: Stack, external_id: str) -> Any:
    with stack.engine.connect() as conn:
        return conn.execute(
            sa.select(messages.c.conversation_id, messages.c.transport, messages.c.text).where(
                messages.c.external_id == external_id
            )
        ).first()


def _truth(stack: Stack) -> dict[str, Any]:
    r = httpx.get(f"{stack.emu.base_url}/_emulator/truth", timeout=10)
    r.raise_for_status()
    return r.json()  # type: ignore[no-any-return]


def test_an_x_chat_conversation_is_shown_decrypted_and_answered_by_x_chat(page, stack: Stack) -> None:  # type: ignore[no-untyped-def]
    with stack.engine.connect() as conn:
        acct = conn.execute(sa.select(accounts.c.id).limit(1)).scalar_one()
    assert xchat_keys.generate(stack.engine, stack.settings, acct).state == "ready"
    legacy = stack.inject(author={"username": "nora_t", "name": "Nora Traveller"}, text=LEGACY, dm=True)
    wait_until(lambda: _stored(stack, legacy["id"]), 60, "the legacy DM in the store")
    state = stack.emu.state
    with state.lock:
        nora = state.user_by_username("nora_t")
        assert nora is not None
        peer = emu_chat.peer_for(state, nora.id)
        conv = emu_chat.conversation(
            state, emu_chat.one_to_one_id(state.org.id, nora.id), [state.org.id, nora.id]
        )
        event = emu_chat.customer_send(state, peer, conv, CHAT)
    chat = wait_until(lambda: _stored(stack, f"xchat:{event.sequence_id}"), 60, "the X Chat message")
    first = _stored(stack, legacy["id"])
    assert (chat.transport, chat.text) == ("xchat", CHAT)  # decrypted before it was stored
    assert chat.conversation_id == first.conversation_id  # one DM thread for both transports
    with stack.engine.connect() as conn:
        contact_id = conn.execute(
            sa.select(conversations.c.contact_id).where(conversations.c.id == chat.conversation_id)
        ).scalar_one()
        threads = conn.execute(
            sa.select(sa.func.count()).where(
                conversations.c.contact_id == contact_id, conversations.c.kind == "dm"
            )
        ).scalar_one()
    assert threads == 1

    login(page, stack)
    page.goto(f"{stack.url}/inbox/dms")
    rows = page.locator("li.row", has_text="Nora Traveller")
    rows.first.wait_for(timeout=60_000)
    assert rows.count() == 1
    page.set_viewport_size({"width": 1440, "height": 900})
    shot(page, "xchat-inbox-1440.png")

    rows.first.locator("a.name").click()
    page.wait_for_url(re.compile(rf"/c/{chat.conversation_id}$"))
    thread = page.locator("#thread")
    expect(thread).to_contain_text(LEGACY)
    expect(thread).to_contain_text(CHAT)
    assert page.locator(".bubble", has_text=CHAT).first.locator(".transport-xchat").count() == 1
    assert page.locator(".bubble", has_text=LEGACY).first.locator(".transport-xchat").count() == 0
    shot(page, "xchat-conversation-1440.png")

    page.fill("#reply-text", REPLY)
    page.click("#send")
    page.wait_for_selector("text=Reply queued.")
    page.wait_for_selector(".status.sent", timeout=60_000)
    out = page.locator(".bubble.out", has_text=REPLY).first
    assert out.locator(".transport-xchat").count() == 1  # answered on the transport the customer used last

    def delivered() -> dict[str, Any] | None:
        return next((c for c in _truth(stack)["chats"] if c["from_org"] and c["text"] == REPLY), None)

    sent = wait_until(delivered, 30, "the reply in the emulator's X Chat store")
    assert sent["readable"] is True and sent["problem"] is None  # the customer decrypted and verified it
    assert nora.id in sent["participant_ids"]
    stats = httpx.get(f"{stack.emu.base_url}/_emulator/stats", timeout=10).json()
    assert stats["received_chats"] == 1 and stats["received_dms"] == 0  # not as a legacy DM

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(page.locator("#thread")).to_contain_text(CHAT)
    assert page.locator("#reply-text").is_visible()
    shot(page, "xchat-conversation-390.png")
    page.goto(f"{stack.url}/inbox/dms")
    page.locator("li.row", has_text="Nora Traveller").first.wait_for()
    shot(page, "xchat-inbox-390.png")
    assert (ARTIFACTS / "xchat-conversation-390.png").exists()
    assert not page.console_errors, page.console_errors
