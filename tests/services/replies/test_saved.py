from __future__ import annotations

import pytest
from sqlalchemy import Engine

from flockdesk.domain.errors import InvalidInput
from flockdesk.services.replies import saved as saved_replies
from flockdesk.services.team import audit
from tests.services.seed import contact, conversation, world


def test_managers_manage_agents_cannot(engine: Engine) -> None:
    ids = world(engine)
    sr = saved_replies.create(
        engine, ids["manager"], "Greeting", "Hi {{contact.name}}, {{agent.first_name}} here"
    )
    assert [s.name for s in saved_replies.list_saved_replies(engine)] == ["Greeting"]
    with pytest.raises(PermissionError, match="managers"):
        saved_replies.create(engine, ids["agent"], "Mine", "hello")
    with pytest.raises(PermissionError):
        saved_replies.update(engine, ids["agent"], sr.id, body="changed")
    with pytest.raises(PermissionError):
        saved_replies.delete(engine, ids["agent"], sr.id)
    updated = saved_replies.update(engine, ids["manager"], sr.id, body="Hello {{ contact.username }}")
    assert updated.body == "Hello {{ contact.username }}" and updated.name == "Greeting"
    saved_replies.delete(engine, ids["manager"], sr.id)
    assert saved_replies.list_saved_replies(engine) == []
    actions = [e.action for e in audit.list_events(engine, target_type="saved_reply")]
    assert actions == ["saved_reply.delete", "saved_reply.update", "saved_reply.create"]


def test_unknown_variables_and_duplicates_are_refused_at_save_time(engine: Engine) -> None:
    ids = world(engine)
    with pytest.raises(InvalidInput, match=r"unknown variable.*\{\{contact.email\}\}"):
        saved_replies.create(engine, ids["manager"], "Bad", "Hi {{contact.email}}")
    with pytest.raises(InvalidInput, match="unknown variable"):
        saved_replies.create(engine, ids["manager"], "Code", "{{ ''.__class__ }}")
    saved_replies.create(engine, ids["manager"], "Thanks", "Thanks!")
    with pytest.raises(InvalidInput, match="already exists"):
        saved_replies.create(engine, ids["manager"], "Thanks", "Thanks again")


def test_render_fills_variables_for_the_conversation_and_agent(engine: Engine) -> None:
    ids = world(engine)
    body = (
        "Hi {{contact.name}} (@{{contact.username}}), {{agent.first_name}} from {{org.name}}. {{agent.name}}"
    )
    text = saved_replies.render_for(engine, body, ids["public"], ids["agent"])
    assert text == "Hi Jane Doe (@jane), Alice from Acme Care. Alice Smith"


def test_values_are_plain_text_never_template_code(engine: Engine) -> None:
    ids = world(engine)
    sneaky = contact(engine, username="x", name="{{agent.name}} {% for x in y %}<b>")
    cid = conversation(engine, ids["account"], sneaky)
    text = saved_replies.render_for(engine, "Hi {{contact.name}}!", cid, ids["agent"])
    assert text == "Hi {{agent.name}} {% for x in y %}<b>!"
    assert saved_replies.render_for(engine, "Hi {{contact.name}}", None, ids["agent"]) == "Hi "
