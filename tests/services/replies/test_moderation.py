"""Hide a reply on X: the service against the emulator, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.connectors.base import RateLimited
from flockdesk.connectors.x.client import XClient
from flockdesk.domain.errors import Conflict
from flockdesk.emulator.server import EmulatorServer
from flockdesk.services.accounts import connected as accounts
from flockdesk.services.ingest.ingestor import Ingestor
from flockdesk.services.replies import moderation
from flockdesk.services.team import audit
from flockdesk.settings import Settings
from flockdesk.store.schema import conversations, messages
from tests.emulator.helpers import hidden_on_x, inject_over_http
from tests.services import seed


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorServer]:
    with EmulatorServer(scenario="airline", speedup=900) as server:
        yield server


def _ingest_mentions(engine: Engine, emu: EmulatorServer, account_id: int) -> None:
    client = XClient(emu.base_url, emu.token, org_user_id=emu.org_user["id"])
    page = client.fetch_mentions(emu.org_user["id"]).page
    Ingestor(engine).ingest_page(account_id, page.items)


def _message_id(engine: Engine, external_id: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(sa.select(messages.c.id).where(messages.c.external_id == external_id)).scalar_one()
        )


@pytest.fixture
def world(engine: Engine, settings: Settings, emu: EmulatorServer) -> dict[str, Any]:
    """An account on the emulator, an org post with a customer's sensitive reply, a customer's own
    thread with a reply in it, all ingested from the mentions timeline."""
    tag = uuid.uuid4().hex[:6]
    org = emu.org_user["username"]
    info = accounts.add_account(engine, settings, base_url=emu.base_url, token=emu.token)
    root = inject_over_http(emu.base_url, from_org=True, text=f"Storm update {tag}: Oslo flights delayed")
    reply = inject_over_http(
        emu.base_url,
        author="maria",
        text=f"@{org} my card is 4111 1111 1111 1111 {tag}",
        in_reply_to=root["id"],
    )
    other_root = inject_over_http(emu.base_url, author="bob", text=f"@{org} where is my bag {tag}")
    other_reply = inject_over_http(
        emu.base_url, author="maria", text=f"@{org} @bob same {tag}", in_reply_to=other_root["id"]
    )
    _ingest_mentions(engine, emu, info.id)
    return {
        "account_id": info.id,
        "user_id": seed.user(engine, f"agent{tag}"),
        "reply": reply,
        "root": root,
        "other_root": other_root,
        "other_reply": other_reply,
    }


def test_hides_a_reply_in_an_org_thread_and_audits_it(
    engine: Engine, settings: Settings, emu: EmulatorServer, world: dict[str, Any]
) -> None:
    mid = _message_id(engine, world["reply"]["id"])
    result = moderation.hide_reply(engine, settings, user_id=world["user_id"], message_id=mid)
    assert result.hidden is True and result.external_id == world["reply"]["id"]
    assert hidden_on_x(emu.base_url, world["reply"]["id"])
    with engine.connect() as conn:
        assert conn.execute(sa.select(messages.c.hidden).where(messages.c.id == mid)).scalar_one() is True
    events = audit.list_events(engine, action="message.hidden")
    assert [(e.target_id, e.actor_user_id) for e in events] == [(str(mid), world["user_id"])]
    offers = moderation.hide_candidates(engine, result.conversation_id)
    assert [(c.hidden, c.thread_owner) for c in offers] == [(True, "org")]

    back = moderation.hide_reply(engine, settings, user_id=world["user_id"], message_id=mid, hidden=False)
    assert back.hidden is False and not hidden_on_x(emu.base_url, world["reply"]["id"])
    assert len(audit.list_events(engine, action="message.unhidden")) == 1


def test_by_conversation_picks_the_flagged_reply(
    engine: Engine, settings: Settings, emu: EmulatorServer, world: dict[str, Any]
) -> None:
    mid = _message_id(engine, world["reply"]["id"])
    with engine.begin() as conn:
        conn.execute(messages.update().where(messages.c.id == mid).values(sensitive=["payment_card"]))
        cid = conn.execute(sa.select(messages.c.conversation_id).where(messages.c.id == mid)).scalar_one()
    result = moderation.hide_reply(engine, settings, user_id=world["user_id"], conversation_id=cid)
    assert result.message_id == mid and hidden_on_x(emu.base_url, world["reply"]["id"])


def test_a_thread_started_by_someone_else_is_refused_without_a_call(
    engine: Engine, settings: Settings, emu: EmulatorServer, world: dict[str, Any]
) -> None:
    mid = _message_id(engine, world["other_reply"]["id"])
    with engine.connect() as conn:
        conv = conn.execute(sa.select(messages.c.conversation_id).where(messages.c.id == mid)).scalar_one()
    offers = moderation.hide_candidates(engine, conv)  # the banner knows it too, and offers nothing
    assert [(c.message_id, c.thread_owner) for c in offers] == [(mid, "other")]
    with pytest.raises(moderation.HideRefused, match="conversations your account started") as info:
        moderation.hide_reply(engine, settings, user_id=world["user_id"], message_id=mid)
    assert info.value.reason == "not_conversation_owner"
    assert audit.list_events(engine, action="message.hide_refused") == []  # the platform was not asked


def test_when_the_root_is_unknown_the_platforms_refusal_is_shown(
    engine: Engine, settings: Settings, emu: EmulatorServer, world: dict[str, Any]
) -> None:
    mid = _message_id(engine, world["other_reply"]["id"])
    with engine.begin() as conn:  # forget who the reply answered: only X can tell
        conn.execute(messages.update().where(messages.c.id == mid).values(in_reply_to_user_id=None))
        conn.execute(messages.delete().where(messages.c.external_id == world["other_root"]["id"]))
    with pytest.raises(
        moderation.HideRefused, match="X refused to hide this reply: .*conversations you started"
    ):
        moderation.hide_reply(engine, settings, user_id=world["user_id"], message_id=mid)
    assert not hidden_on_x(emu.base_url, world["other_reply"]["id"])
    with engine.connect() as conn:
        assert conn.execute(sa.select(messages.c.hidden).where(messages.c.id == mid)).scalar_one() is None
    assert len(audit.list_events(engine, action="message.hide_refused")) == 1


def test_what_can_never_be_hidden(
    engine: Engine, settings: Settings, emu: EmulatorServer, world: dict[str, Any]
) -> None:
    root_mid = _message_id(engine, world["other_root"]["id"])
    with pytest.raises(moderation.HideRefused, match="not a reply") as info:
        moderation.hide_reply(engine, settings, user_id=world["user_id"], message_id=root_mid)
    assert info.value.reason == "not_a_reply"
    mid = _message_id(engine, world["reply"]["id"])
    with engine.begin() as conn:
        cid = conn.execute(sa.select(messages.c.conversation_id).where(messages.c.id == mid)).scalar_one()
        conn.execute(conversations.update().where(conversations.c.id == cid).values(kind="dm"))
    with pytest.raises(moderation.HideRefused, match="private already"):
        moderation.hide_reply(engine, settings, user_id=world["user_id"], message_id=mid)
    with pytest.raises(moderation.NotFound):
        moderation.hide_reply(engine, settings, user_id=world["user_id"], message_id=10**9)


class _Limited:
    def hide_reply(self, post_id: str, *, hidden: bool = True) -> bool:
        raise RateLimited("hide_reply", None, "429 Too Many Requests")


def test_rate_limit_is_a_clear_conflict(engine: Engine, settings: Settings, world: dict[str, Any]) -> None:
    mid = _message_id(engine, world["reply"]["id"])
    with pytest.raises(Conflict, match="limit for hiding replies is spent"):
        moderation.hide_reply(
            engine, settings, user_id=world["user_id"], message_id=mid, connector=_Limited()
        )
    with engine.connect() as conn:
        assert conn.execute(sa.select(messages.c.hidden).where(messages.c.id == mid)).scalar_one() is None
