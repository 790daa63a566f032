"""AI drafts in the web app: off by default; with the stand-in model, a checked suggestion from the
API and the composer's buttons; a failing model is a clear message, never a broken page; a reply sent
from a draft is audited as AI-drafted."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from flockdesk.emulator.chat_model import DEFAULT_DRAFT, ChatModelServer
from flockdesk.services.team import audit
from flockdesk.web.app import create_app

from .conftest import Browser
from .seed import thread


@pytest.fixture(scope="module")
def stand_in() -> Iterator[ChatModelServer]:
    with ChatModelServer() as server:
        yield server


@pytest.fixture
def ai_agent(settings, engine, people, stand_in: ChatModelServer) -> Iterator[Browser]:  # type: ignore[no-untyped-def]
    stand_in.set(mode="ok", reply=None)
    app = create_app(settings.model_copy(update={"ai_url": stand_in.base_url, "ai_timeout_s": 5.0}), engine)
    with TestClient(app, base_url="http://testserver") as c:
        b = Browser(c)
        b.login("bob")
        yield b


def test_off_by_default_no_buttons_and_the_api_says_how_to_turn_it_on(agent: Browser, engine) -> None:
    cid = thread(engine)["conversation"]
    assert 'id="ai-draft"' not in agent.client.get(f"/c/{cid}").text
    resp = agent.post_json(f"/api/v1/conversations/{cid}/draft-suggestions", {})
    assert resp.status_code == 404
    assert "FLOCKDESK_AI_URL" in resp.json()["detail"]


def test_a_suggestion_comes_checked_and_queues_nothing(ai_agent: Browser, engine) -> None:
    cid = thread(engine)["conversation"]
    page = ai_agent.client.get(f"/c/{cid}").text
    assert '<button type="button" id="ai-draft"' in page and 'id="ai-summary-btn"' in page
    resp = ai_agent.post_json(f"/api/v1/conversations/{cid}/draft-suggestions", {})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["text"], body["flagged"], body["ai_drafted"], body["kind"]) == (
        DEFAULT_DRAFT,
        False,
        True,
        "reply",
    )
    assert "data-outbox" not in ai_agent.client.get(f"/c/{cid}").text


def test_a_draft_asking_for_a_phone_number_in_public_is_flagged(
    ai_agent: Browser, engine, stand_in: ChatModelServer
) -> None:
    cid = thread(engine)["conversation"]
    stand_in.set(reply="What's the best phone number to reach you on? Pop it below and we'll call.")
    body = ai_agent.post_json(f"/api/v1/conversations/{cid}/draft-suggestions", {}).json()
    assert body["flagged"] and body["asks_for_sensitive"]


@pytest.mark.parametrize(("mode", "says"), [("error", "HTTP 500"), ("garbage", "could not be read")])
def test_a_failing_model_is_a_clear_message(
    ai_agent: Browser, engine, stand_in: ChatModelServer, mode: str, says: str
) -> None:
    cid = thread(engine)["conversation"]
    stand_in.set(mode=mode)
    resp = ai_agent.post_json(f"/api/v1/conversations/{cid}/draft-suggestions", {})
    assert resp.status_code == 503
    assert says in resp.json()["detail"]
    # the page and its composer still work
    assert ai_agent.client.get(f"/c/{cid}").status_code == 200
    sent = ai_agent.post_json(f"/api/v1/conversations/{cid}/replies", {"text": "We're on it."})
    assert sent.status_code == 201


def test_summary(ai_agent: Browser, engine) -> None:
    cid = thread(engine)["conversation"]
    resp = ai_agent.post_json(f"/api/v1/conversations/{cid}/summary", {})
    assert resp.json() == {
        "summary": "Summary of 1 messages: the customer wrote first about '@acmecare my order never arrived'."
    }


def test_a_reply_sent_from_a_draft_is_audited_as_ai_drafted(ai_agent: Browser, engine) -> None:
    cid = thread(engine)["conversation"]
    resp = ai_agent.post_json(
        f"/api/v1/conversations/{cid}/replies",
        {"text": "So sorry! DM us and we'll fix it.", "ai_drafted": True},
    )
    assert resp.status_code == 201, resp.text
    # the form fallback carries the mark too
    form = ai_agent.post(f"/c/{cid}/reply", {"text": "One more thing: DM us any time.", "ai_drafted": "yes"})
    assert form.status_code == 303
    events = audit.list_events(engine, action="reply.queue")
    assert [e.details.get("ai_drafted") for e in events] == [True, True]


def test_the_audit_page_marks_ai_drafted_replies(ai_agent: Browser, admin: Browser, engine) -> None:
    cid = thread(engine)["conversation"]
    ai_agent.post_json(
        f"/api/v1/conversations/{cid}/replies", {"text": "So sorry! DM us.", "ai_drafted": True}
    )
    ai_agent.post_json(f"/api/v1/conversations/{cid}/replies", {"text": "Written by hand: DM us."})
    page = admin.client.get("/settings/audit").text
    assert page.count('<span class="chip ai-drafted"') == 1
