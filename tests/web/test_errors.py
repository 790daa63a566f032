"""One error model: a UserError is its 4xx with its message (pages and API); anything else is a 500
with a generic message, its stack trace in the log, never the exception's own text."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from flockdesk.domain import errors as domain_errors
from flockdesk.domain.errors import Conflict, InvalidInput, NotAllowed, NotFound, ReplyRefused, UserError
from flockdesk.services.conversations import actions as conv_svc
from flockdesk.services.conversations import inbox as inbox_svc
from flockdesk.services.team import users as users_svc
from flockdesk.web import errors

from .conftest import SQLITE_ONLY, Browser
from .seed import thread


@pytest.fixture
def lenient(app, people) -> Iterator[Browser]:  # type: ignore[no-untyped-def]
    """A signed-in agent whose client answers 500s instead of raising the server's exception."""
    with TestClient(app, base_url="http://testserver", raise_server_exceptions=False) as c:
        b = Browser(c)
        b.login("bob")
        yield b


def _raise(exc: BaseException) -> Any:
    def boom(*args: Any, **kwargs: Any) -> Any:
        raise exc

    return boom


def test_every_user_error_maps_to_its_status_and_nothing_else_does() -> None:
    cases = {
        InvalidInput("x"): 400,
        NotFound("x"): 404,
        NotAllowed("x"): 403,
        Conflict("x"): 409,
        ReplyRefused("r", "x"): 422,
        UserError("x"): 400,
    }
    for exc, status in cases.items():
        assert errors.status_for(exc) == status, exc
    for exc in (KeyError("conversation_id"), LookupError("x"), ValueError("x"), PermissionError("x")):
        assert errors.status_for(exc) is None, exc
        assert errors.message_for(exc) == errors.GENERIC_MESSAGE
    subclasses = {c.__name__ for c in UserError.__subclasses__()}
    assert {"InvalidInput", "NotFound", "NotAllowed", "Conflict"} <= subclasses
    assert all(isinstance(getattr(domain_errors, n), type) for n in subclasses if hasattr(domain_errors, n))


def test_a_user_error_message_carries_its_advice() -> None:
    exc = InvalidInput("the page size is 0.", advice="Use 1 to 200.")
    assert errors.message_for(exc) == "the page size is 0. Use 1 to 200."


@SQLITE_ONLY
def test_a_key_error_in_a_page_is_a_logged_500_not_a_404_showing_the_key(
    lenient: Browser, engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    cid = thread(engine)["conversation"]
    monkeypatch.setattr(conv_svc, "get_conversation", _raise(KeyError("conversation_id")))
    with caplog.at_level(logging.ERROR):
        page = lenient.client.get(f"/c/{cid}")
        as_json = lenient.client.get(f"/c/{cid}", headers={"Accept": "application/json"})
    for resp in (page, as_json):
        assert resp.status_code == 500
        assert "conversation_id" not in resp.text
    assert as_json.json() == {"detail": errors.GENERIC_MESSAGE}
    assert any(r.exc_info and r.exc_info[0] is KeyError for r in caplog.records)  # the trace is logged


@SQLITE_ONLY
def test_a_key_error_in_the_api_is_a_500_with_a_generic_message(
    engine, people, app, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = users_svc.create_api_token(engine, people["agent"].id, "t")
    monkeypatch.setattr(inbox_svc, "list_view", _raise(KeyError("conversation_id")))
    with TestClient(app, base_url="http://testserver", raise_server_exceptions=False) as c:
        resp = c.get("/api/v1/conversations", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 500 and "conversation_id" not in resp.text


@SQLITE_ONLY
def test_user_errors_are_their_4xx_with_their_message_on_pages_and_in_the_api(
    agent: Browser, engine, people, monkeypatch: pytest.MonkeyPatch
) -> None:
    cid = thread(engine)["conversation"]
    monkeypatch.setattr(
        conv_svc, "get_conversation", _raise(Conflict("someone else just merged it; reload the inbox"))
    )
    page = agent.client.get(f"/c/{cid}")
    assert page.status_code == 409 and "reload the inbox" in page.text
    as_json = agent.client.get(f"/c/{cid}", headers={"Accept": "application/json"})
    assert as_json.status_code == 409
    assert as_json.json() == {"detail": "someone else just merged it; reload the inbox"}
    monkeypatch.undo()
    token = users_svc.create_api_token(engine, people["agent"].id, "t")
    resp = agent.client.get("/api/v1/conversations/987654", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 404 and "does not exist" in resp.json()["detail"]
    bad_view = agent.client.get(
        "/api/v1/conversations", params={"view": "nope"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert bad_view.status_code == 400 and "Unknown view" in bad_view.json()["detail"]


def test_a_malformed_id_in_a_page_address_is_the_friendly_404_page(agent: Browser) -> None:
    resp = agent.client.get("/c/abc", headers={"accept": "text/html"})
    assert resp.status_code == 404
    assert resp.headers["content-type"].startswith("text/html")
    assert "There is no page at this address" in resp.text
    assert "Content-Security-Policy" in resp.headers
    assert "int_parsing" not in resp.text and "detail" not in resp.text


def test_a_malformed_id_keeps_the_json_details_for_api_callers(agent: Browser) -> None:
    resp = agent.client.get("/c/abc", headers={"accept": "application/json"})
    assert resp.status_code == 422
    assert resp.json()["detail"][0]["loc"] == ["path", "cid"]


def test_an_unknown_page_is_the_friendly_404_page(agent: Browser) -> None:
    resp = agent.client.get("/no-such-page", headers={"accept": "text/html"})
    assert resp.status_code == 404
    assert "There is no page at this address" in resp.text
