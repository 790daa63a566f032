"""AI drafts and summaries against the local stand-in model (emulator/chat_model.py), on SQLite and
PostgreSQL: a draft is a checked suggestion, never a queued reply; a sent draft is marked AI-drafted;
every failure of the endpoint is a clear AssistUnavailable."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.domain.errors import GuardFlagged
from flockdesk.emulator.chat_model import DEFAULT_DRAFT, ChatModelServer
from flockdesk.services.accounts.org_contacts import OrgContacts, set_org_contacts
from flockdesk.services.conversations import actions as conversations
from flockdesk.services.replies import assist, saved
from flockdesk.services.replies import compose as replies
from flockdesk.services.team import audit
from flockdesk.store.schema import outbox
from tests.services.seed import conversation, message, world

ASKS_PHONE = "So sorry! What's the best phone number to call you on? Reply here and we'll ring you today."


@pytest.fixture(scope="module")
def stand_in() -> Iterator[ChatModelServer]:
    with ChatModelServer() as server:
        yield server


@pytest.fixture
def model(stand_in: ChatModelServer) -> assist.ChatModel:
    stand_in.set(mode="ok", reply=None, delay_s=5.0)
    stand_in.state.requests.clear()
    return assist.OpenAICompatible(url=stand_in.base_url, model="stand-in", timeout_s=5.0, api_key="k-123")


def _outbox_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(outbox)).scalar() or 0)


def test_a_draft_is_a_checked_suggestion_and_nothing_is_queued(
    engine: Engine, model: assist.ChatModel
) -> None:
    ids = world(engine)
    got = assist.suggest_reply(engine, model, ids["public"])
    assert (got.text, got.kind, got.flagged, got.policy_message, got.valid) == (
        DEFAULT_DRAFT,
        "reply",
        False,
        None,
        True,
    )
    assert _outbox_count(engine) == 0


def test_the_guard_runs_on_a_draft_that_asks_for_a_phone_number(
    engine: Engine, model: assist.ChatModel, stand_in: ChatModelServer
) -> None:
    ids = world(engine)
    stand_in.set(reply=ASKS_PHONE)
    got = assist.suggest_reply(engine, model, ids["public"])
    assert got.flagged and got.asks_for_sensitive
    assert "public" in got.advice
    # the same draft in a DM is fine: the guard is for public replies
    assert not assist.suggest_reply(engine, model, ids["dm"]).flagged


def test_the_accounts_own_contact_details_in_a_draft_are_not_flagged(
    engine: Engine, model: assist.ChatModel, stand_in: ChatModelServer
) -> None:
    ids = world(engine)
    stand_in.set(reply="Sorry! Email our team at help@acme.com and we'll sort it out today.")
    assert assist.suggest_reply(engine, model, ids["public"]).contains_sensitive == ["email"]
    set_org_contacts(engine, ids["account"], OrgContacts(emails=("help@acme.com",)), actor_id=None)
    assert not assist.suggest_reply(engine, model, ids["public"]).flagged


def test_the_request_carries_the_thread_and_the_saved_replies_but_no_notes(
    engine: Engine, model: assist.ChatModel, stand_in: ChatModelServer
) -> None:
    ids = world(engine)
    saved.create(
        engine, ids["manager"], "Apology", "We're so sorry, {first_name}: that's not the service we aim for."
    )
    conversations.add_note(engine, ids["public"], ids["agent"], "internal: customer is a VIP, be careful")
    assist.suggest_reply(engine, model, ids["public"])
    (sent,) = stand_in.state.requests
    system, user = sent["body"]["messages"]
    assert sent["authorization"] == "Bearer k-123"
    assert sent["body"]["model"] == "stand-in"
    assert "@acmecare" in system["content"] and "not the service we aim for" in system["content"]
    assert "Never ask for personal data" in system["content"]
    assert "Customer: @acmecare my order never arrived" in user["content"]
    assert "VIP" not in system["content"] + user["content"]


def test_a_sent_draft_is_marked_ai_drafted_in_the_outbox_and_the_audit(
    engine: Engine, model: assist.ChatModel
) -> None:
    ids = world(engine)
    draft = assist.suggest_reply(engine, model, ids["public"])
    edited = draft.text.replace("Sorry to hear", "So sorry to hear")
    row = replies.queue_reply(engine, ids["public"], ids["agent"], edited, ai_drafted=True)
    plain = replies.queue_reply(engine, ids["dm"], ids["agent"], "Thanks, fixed now")
    with engine.connect() as conn:
        origins = dict(conn.execute(sa.select(outbox.c.id, outbox.c.origin)).all())
    assert (origins[row.id], origins[plain.id]) == ("ai_draft", "agent")
    events = {e.target_id: e.details for e in audit.list_events(engine, action="reply.queue")}
    assert events[str(row.id)]["ai_drafted"] is True
    assert "ai_drafted" not in events[str(plain.id)]


def test_a_flagged_draft_is_refused_when_sent_like_any_reply(engine: Engine) -> None:
    ids = world(engine)
    with pytest.raises(GuardFlagged):
        replies.queue_reply(engine, ids["public"], ids["agent"], ASKS_PHONE, ai_drafted=True)
    assert _outbox_count(engine) == 0


@pytest.mark.parametrize(
    ("mode", "says"),
    [
        ("error", "HTTP 500"),
        ("garbage", "could not be read"),
        ("empty", "empty answer"),
    ],
)
def test_a_failing_endpoint_gives_a_clear_message(
    engine: Engine, model: assist.ChatModel, stand_in: ChatModelServer, mode: str, says: str
) -> None:
    ids = world(engine)
    stand_in.set(mode=mode)
    with pytest.raises(assist.AssistUnavailable, match=says) as err:
        assist.suggest_reply(engine, model, ids["public"])
    assert err.value.status == 503
    assert _outbox_count(engine) == 0


def test_a_slow_endpoint_is_dropped_after_the_timeout(engine: Engine, stand_in: ChatModelServer) -> None:
    ids = world(engine)
    stand_in.set(mode="slow", delay_s=3.0)
    impatient = assist.OpenAICompatible(url=stand_in.base_url, model="m", timeout_s=0.2)
    with pytest.raises(assist.AssistUnavailable, match=r"did not answer within 0\.2 s"):
        assist.suggest_reply(engine, impatient, ids["public"])


def test_an_endpoint_that_is_down_gives_a_clear_message(engine: Engine) -> None:
    ids = world(engine)
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    down = assist.OpenAICompatible(url=f"http://127.0.0.1:{port}/v1", model="m", timeout_s=2.0)
    with pytest.raises(assist.AssistUnavailable, match="could not be reached"):
        assist.suggest_reply(engine, down, ids["public"])


def test_off_unless_a_url_is_set() -> None:
    assert assist.model_from(None, model="m", timeout_s=1.0, api_key=None) is None
    assert assist.model_from("http://127.0.0.1:9/v1", model="m", timeout_s=1.0, api_key=None) is not None


def test_summary_of_a_long_thread(engine: Engine, model: assist.ChatModel) -> None:
    ids = world(engine)
    for i in range(8):
        message(engine, ids["public"], f"@acmecare update {i}: still nothing", contact_id=ids["contact"])
    summary = assist.summarise(engine, model, ids["public"])
    assert (
        summary == "Summary of 9 messages: the customer wrote first about '@acmecare my order never arrived'."
    )


def test_no_draft_without_a_customer_message(engine: Engine, model: assist.ChatModel) -> None:
    ids = world(engine)
    empty = conversation(engine, ids["account"], ids["contact"], kind="public", channel="mention")
    with pytest.raises(assist.AssistUnavailable, match="no customer message"):
        assist.suggest_reply(engine, model, empty)
