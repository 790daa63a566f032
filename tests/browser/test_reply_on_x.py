"""'Reply on X' in a real browser (issue 8): a listening post that does not tag the brand cannot be
answered through the API, so the composer says why and offers the native path: the drafted reply
opens in X's composer (the reply intent), the agent confirms, and the reply the brand posted on X is
attached to the conversation when it comes back among the account's own posts."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
import sqlalchemy as sa

from flockdesk.services.accounts import connected as accounts_svc
from flockdesk.services.replies import native
from flockdesk.store.schema import accounts, outbox
from tests import seed_data

from .conftest import Stack, shot
from .test_golden_path import login

pytestmark = pytest.mark.browser


def test_reply_on_x_for_a_listening_post(page, stack: Stack) -> None:  # type: ignore[no-untyped-def]
    post = stack.inject(author="hashtag_fan", text="#SkywardAir lost my bag again", kind="search")
    with stack.engine.connect() as conn:
        acct = conn.execute(sa.select(accounts.c.id).limit(1)).scalar_one()
    ct = seed_data.contact(stack.engine, username="hashtag_fan", name="Hashtag Fan")
    cid = seed_data.conversation(stack.engine, acct, ct, channel="search")
    mid = seed_data.message(
        stack.engine,
        cid,
        "#SkywardAir lost my bag again",
        kind="search",
        contact_id=ct,
        mentions_account=False,
    )
    with stack.engine.begin() as conn:
        conn.execute(
            sa.text("update messages set external_id = :e where id = :m"), {"e": post["id"], "m": mid}
        )

    login(page, stack)
    page.goto(f"{stack.url}/c/{cid}")
    reason = page.locator("#policy-reason")
    assert "mention the account" in reason.inner_text()
    assert page.locator("#send").count() == 0  # no button that would queue a reply X refuses
    view = page.locator("article.bubble a.view-on").first
    assert view.get_attribute("href") == f"https://x.com/i/web/status/{post['id']}"
    assert view.get_attribute("rel") == "noopener noreferrer" and view.get_attribute("target") == "_blank"
    assert page.locator("#profile-link").get_attribute("href") == "https://x.com/hashtag_fan"

    page.fill("#reply-text", "So sorry! Send us a DM and we'll find it.")
    page.click("#reply-on-x")
    page.wait_for_url(f"{stack.url}/c/{cid}?*")
    assert "open it on X below" in page.locator(".flash.notice").inner_text()
    link = page.locator("a.native-open")
    href = link.get_attribute("href") or ""
    url = urlparse(href)
    assert (url.netloc, url.path) == ("x.com", "/intent/post")
    assert parse_qs(url.query) == {
        "in_reply_to": [post["id"]],
        "text": ["So sorry! Send us a DM and we'll find it."],
    }
    assert link.get_attribute("rel") == "noopener noreferrer"
    shot(page, "reply-on-x-drafted.png")
    page.click("button.native-sent")
    page.wait_for_url(f"{stack.url}/c/{cid}?*")
    assert "waiting for it to show up" in page.locator("article.bubble.out .status").inner_text()

    # the agent posts it on X; the match reads the account's own posts and attaches it
    mine = stack.inject(
        from_org=True, in_reply_to=post["id"], text="@hashtag_fan So sorry! Send us a DM and we'll find it."
    )
    connector = accounts_svc.connector_for_account(stack.engine, stack.settings, acct)
    native.match_pending(stack.engine, lambda _a: connector)  # the worker's job may have run it first
    page.reload()
    status = page.locator("article.bubble.out .status")
    assert status.inner_text().strip().startswith("Sent")
    assert page.locator("article.bubble.out a.view-on").get_attribute("href") == (
        f"https://x.com/i/web/status/{mine['id']}"
    )
    with stack.engine.connect() as conn:
        row = conn.execute(sa.select(outbox).where(outbox.c.conversation_id == cid)).one()
    assert (row.kind, row.status, row.attempts) == ("native_reply", "sent", 0)
    shot(page, "reply-on-x-matched.png")
    assert page.console_errors == []  # type: ignore[attr-defined]
