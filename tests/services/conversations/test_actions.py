from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from flockdesk.domain.errors import InvalidInput, NotFound
from flockdesk.services.conversations import actions as conversations
from flockdesk.services.conversations import inbox
from flockdesk.services.replies import compose as replies
from flockdesk.services.team import audit
from tests.services.seed import T0, conversation, message, world


def test_thread_is_in_order_with_notes_and_outbox_status(engine: Engine) -> None:
    ids = world(engine)
    message(engine, ids["public"], "a later reply", at=T0 + timedelta(hours=2), contact_id=ids["contact"])
    message(engine, ids["public"], "the first post", at=T0 - timedelta(hours=2), contact_id=ids["contact"])
    conversations.add_note(engine, ids["public"], ids["agent"], "checking with @bob and @nobody")

    row = replies.queue_reply(engine, ids["public"], ids["agent"], "Sorry to hear that, we're on it")
    view = conversations.get_conversation(engine, ids["public"])
    texts = [i.text for i in view.thread if i.type == "message"]
    assert texts == ["the first post", "@acmecare my order never arrived", "a later reply"]
    note = next(i for i in view.thread if i.type == "note")
    assert note.mentions == [ids["bob"]] and note.author_username == "alice"
    out = next(i for i in view.thread if i.type == "outbox")
    assert out.outbox_id == row.id and out.status == "queued"


def test_contact_panel_lists_every_conversation_across_channels(engine: Engine) -> None:
    ids = world(engine)
    conversations.add_tag(engine, ids["dm"], ids["agent"], "Billing")
    conversations.add_note(engine, ids["public"], ids["agent"], "VIP customer")
    panel = conversations.get_conversation(engine, ids["public"]).contact
    assert panel is not None
    assert (panel.name, panel.username, panel.followers_count, panel.verified) == (
        "Jane Doe",
        "jane",
        5000,
        True,
    )
    assert {c.id for c in panel.conversations} == {ids["public"], ids["dm"]}
    assert {c.channel for c in panel.conversations} == {"mention", "dm"}
    assert panel.tags == ["billing"]
    assert [n.text for n in panel.notes] == ["VIP customer"]


def test_assign_self_assign_unassign_are_audited(engine: Engine) -> None:
    ids = world(engine)
    conversations.assign(engine, ids["public"], ids["manager"], ids["bob"])
    assert conversations.get_conversation(engine, ids["public"]).conversation.assignee_username == "bob"
    conversations.self_assign(engine, ids["public"], ids["agent"])
    mine = inbox.list_view(engine, "mine", user_id=ids["agent"])
    assert [r.conversation_id for r in mine.rows] == [ids["public"]]
    conversations.unassign(engine, ids["public"], ids["agent"])
    assert conversations.get_conversation(engine, ids["public"]).conversation.assignee_id is None
    actions = [
        e.action for e in audit.list_events(engine, target_type="conversation", target_id=ids["public"])
    ]
    assert actions == ["conversation.unassign", "conversation.assign", "conversation.assign"]
    with pytest.raises(InvalidInput):
        conversations.assign(engine, ids["public"], ids["agent"], 999_999)


def test_tags_are_created_on_first_use_and_removed(engine: Engine) -> None:
    ids = world(engine)
    assert (
        conversations.add_tag(engine, ids["public"], ids["agent"], "  Refund  Request ") == "refund request"
    )
    conversations.add_tag(engine, ids["public"], ids["agent"], "refund request")
    assert conversations.get_conversation(engine, ids["public"]).tags == ["refund request"]
    conversations.remove_tag(engine, ids["public"], ids["agent"], "Refund Request")
    assert conversations.get_conversation(engine, ids["public"]).tags == []
    with pytest.raises(InvalidInput, match="not valid"):
        conversations.add_tag(engine, ids["public"], ids["agent"], "<script>")


def test_snooze_hides_until_due_then_wake_reopens(engine: Engine) -> None:
    ids = world(engine)
    now = T0
    conversations.snooze(engine, ids["public"], ids["agent"], now + timedelta(hours=3), now=now)
    assert ids["public"] not in [r.conversation_id for r in inbox.list_view(engine, "all").rows]
    assert [r.conversation_id for r in inbox.list_view(engine, "snoozed").rows] == [ids["public"]]
    assert conversations.wake_due(engine, now + timedelta(hours=1)) == 0
    assert conversations.wake_due(engine, now + timedelta(hours=3, seconds=1)) == 1
    assert ids["public"] in [r.conversation_id for r in inbox.list_view(engine, "all").rows]
    with pytest.raises(InvalidInput, match="past"):
        conversations.snooze(engine, ids["public"], ids["agent"], now - timedelta(hours=1), now=now)


def test_follow_up_comes_back_to_the_assignees_mine_view(engine: Engine) -> None:
    ids = world(engine)
    due = conversations.follow_up(engine, ids["public"], ids["agent"], now=T0)
    assert due == T0 + timedelta(hours=24)
    assert inbox.list_view(engine, "mine", user_id=ids["agent"]).rows == []
    conversations.wake_due(engine, T0 + timedelta(hours=25))
    mine = inbox.list_view(engine, "mine", user_id=ids["agent"]).rows
    assert [r.conversation_id for r in mine] == [ids["public"]] and mine[0].follow_up_at is not None
    assert audit.list_events(engine, action="conversation.follow_up_due")[0].target_id == str(ids["public"])


def test_resolve_and_reopen(engine: Engine) -> None:
    ids = world(engine)
    conversations.resolve(engine, ids["public"], ids["agent"])
    assert [r.conversation_id for r in inbox.list_view(engine, "resolved").rows] == [ids["public"]]
    conversations.reopen(engine, ids["public"], ids["agent"])
    assert conversations.get_conversation(engine, ids["public"]).conversation.status == "open"


def test_unknown_conversation_and_empty_note_are_clear_errors(engine: Engine) -> None:
    ids = world(engine)
    with pytest.raises(NotFound, match="does not exist"):
        conversations.get_conversation(engine, 424242)
    with pytest.raises(InvalidInput, match="empty"):
        conversations.add_note(engine, ids["public"], ids["agent"], "   ")
    with pytest.raises(PermissionError):
        conversations.resolve(engine, ids["public"], 777_777)


def test_conversation_without_contact_still_renders(engine: Engine) -> None:
    ids = world(engine)
    cid = conversation(engine, ids["account"], None)
    assert conversations.get_conversation(engine, cid).contact is None
