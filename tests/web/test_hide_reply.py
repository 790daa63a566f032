"""The sensitive-data banner offers "Hide this reply on X" for a customer's reply, and shows the result."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.connectors.x.client import XClient
from flockdesk.emulator.server import EmulatorServer
from flockdesk.services.accounts import connected as accounts
from flockdesk.services.ingest.ingestor import Ingestor
from flockdesk.settings import Settings
from flockdesk.store.schema import audit_events, messages
from tests.emulator.helpers import hidden_on_x, inject_over_http

from .conftest import Browser
from .seed import thread


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorServer]:
    with EmulatorServer(scenario="airline", speedup=900) as server:
        yield server


def _ingested_reply(engine: Engine, settings: Settings, emu: EmulatorServer, *, org_root: bool) -> dict:
    """A customer's reply holding a card number, under a post by the org (or by another customer)."""
    tag = uuid.uuid4().hex[:6]
    org = emu.org_user["username"]
    info = accounts.add_account(engine, settings, base_url=emu.base_url, token=emu.token)
    root = (
        inject_over_http(emu.base_url, from_org=True, text=f"Schedule update {tag}")
        if org_root
        else inject_over_http(emu.base_url, author="bob", text=f"@{org} lost bag {tag}")
    )
    reply = inject_over_http(
        emu.base_url, author="maria", text=f"@{org} card 4111 1111 1111 1111 {tag}", in_reply_to=root["id"]
    )
    page = (
        XClient(emu.base_url, emu.token, org_user_id=emu.org_user["id"])
        .fetch_mentions(emu.org_user["id"])
        .page
    )
    Ingestor(engine).ingest_page(info.id, page.items)
    with engine.begin() as conn:
        conn.execute(
            messages.update()
            .where(messages.c.external_id == reply["id"])
            .values(sensitive=["payment_card"], move_to_dm=True)
        )
        row = conn.execute(
            sa.select(messages.c.id, messages.c.conversation_id).where(messages.c.external_id == reply["id"])
        ).one()
    return {"post_id": reply["id"], "message_id": row.id, "conversation_id": row.conversation_id}


def test_banner_hides_the_reply_on_x_and_shows_it(
    agent: Browser, engine: Engine, settings: Settings, emu: EmulatorServer
) -> None:
    r = _ingested_reply(engine, settings, emu, org_root=True)
    page = agent.client.get(f"/c/{r['conversation_id']}").text
    assert 'id="sensitive-banner"' in page and 'id="banner-hide-reply"' in page
    resp = agent.post(f"/c/{r['conversation_id']}/hide-reply", {"message_id": str(r["message_id"])})
    assert resp.status_code == 303 and "hidden+on+X" in resp.headers["location"], resp.headers["location"]
    assert hidden_on_x(emu.base_url, r["post_id"])
    page = agent.client.get(resp.headers["location"]).text
    assert 'id="reply-hidden-state"' in page and 'id="banner-unhide-reply"' in page
    assert "The reply is hidden on X" in page
    with engine.connect() as conn:
        actions = list(conn.execute(sa.select(audit_events.c.action)).scalars())
    assert "message.hidden" in actions
    resp = agent.post(
        f"/c/{r['conversation_id']}/hide-reply", {"message_id": str(r["message_id"]), "hidden": "no"}
    )
    assert "visible+on+X+again" in resp.headers["location"] and not hidden_on_x(emu.base_url, r["post_id"])


def test_a_refusal_is_shown_with_what_to_do(
    agent: Browser, engine: Engine, settings: Settings, emu: EmulatorServer
) -> None:
    r = _ingested_reply(engine, settings, emu, org_root=False)
    page = agent.client.get(f"/c/{r['conversation_id']}").text
    assert 'id="sensitive-banner"' in page and "banner-hide-reply" not in page  # X would refuse
    resp = agent.post(f"/c/{r['conversation_id']}/hide-reply", {"message_id": str(r["message_id"])})
    page = agent.client.get(resp.headers["location"]).text
    assert "conversations your account started" in page and "Move it to DM" in page
    assert not hidden_on_x(emu.base_url, r["post_id"])


def test_no_offer_for_a_post_that_is_not_a_reply_and_csrf_is_required(agent: Browser, engine: Engine) -> None:
    ids = thread(engine, text="@acmecare my email is jane@example.com", sensitive=["email"], move_to_dm=True)
    page = agent.client.get(f"/c/{ids['conversation']}").text
    assert 'id="sensitive-banner"' in page and "banner-hide-reply" not in page
    forged = agent.client.post(
        f"/c/{ids['conversation']}/hide-reply",
        data={"message_id": str(ids["message"])},
        follow_redirects=False,
    )
    assert forged.status_code in (400, 403)
    other = thread(engine, text="@acmecare hi", username="zed")
    resp = agent.post(f"/c/{other['conversation']}/hide-reply", {"message_id": str(ids["message"])})
    assert "not+in+this+conversation" in resp.headers["location"]
