"""Every state change of a conversation leaves one history row: who, when, from, to."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.domain.errors import InvalidInput
from flockdesk.services.conversations import actions as conversations
from flockdesk.services.conversations import history
from flockdesk.services.conversations.history import ConversationEvent
from flockdesk.services.replies import compose as replies
from flockdesk.store.schema import conversation_events
from tests.services.seed import T0, contact, conversation, message, world


def _steps(engine: Engine, cid: int) -> list[tuple[str, str | None, str, str]]:
    return [(e.kind, e.from_status, e.to_status, e.actor) for e in history.timeline(engine, cid)]


def test_actions_write_who_when_from_and_to(engine: Engine) -> None:
    ids = world(engine)
    cid = ids["public"]
    conversations.assign(engine, cid, ids["manager"], ids["bob"])
    conversations.self_assign(engine, cid, ids["agent"])
    conversations.snooze(engine, cid, ids["agent"], T0 + timedelta(hours=3), now=T0)
    assert conversations.wake_due(engine, T0 + timedelta(hours=4)) == 1
    conversations.follow_up(engine, cid, ids["agent"], hours=2, now=T0)
    conversations.resolve(engine, cid, ids["bob"])
    conversations.resolve(engine, cid, ids["bob"])  # no change: no row
    conversations.reopen(engine, cid, ids["agent"])
    conversations.unassign(engine, cid, ids["agent"])
    assert _steps(engine, cid) == [
        ("assign", "open", "open", "mia"),
        ("assign", "open", "open", "alice"),
        ("snooze", "open", "snoozed", "alice"),
        ("wake", "snoozed", "open", "system"),
        ("follow_up", "open", "snoozed", "alice"),
        ("resolve", "snoozed", "resolved", "bob"),
        ("reopen", "resolved", "open", "alice"),
        ("unassign", "open", "open", "alice"),
    ]
    first, *_, last = history.timeline(engine, cid)
    assert first.changes == {"assignee_id": [None, ids["bob"]]} and first.actor_user_id == ids["manager"]
    assert last.changes == {"assignee_id": [ids["agent"], None]}
    woke = history.timeline(engine, cid)[3]
    assert woke.detail == {"due": "snooze_due"} and woke.changes["snoozed_until"][1] is None


def test_a_refused_action_writes_no_history(engine: Engine) -> None:
    ids = world(engine)
    with pytest.raises(InvalidInput):
        conversations.assign(engine, ids["public"], ids["agent"], 999_999)
    with pytest.raises(PermissionError):
        conversations.resolve(engine, ids["public"], 777_777)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(conversation_events)).scalar() == 0


def test_move_to_dm_is_in_both_timelines(engine: Engine) -> None:
    ids = world(engine)
    conversations.resolve(engine, ids["dm"], ids["agent"])
    moved = replies.move_to_dm(engine, ids["public"], ids["agent"])
    assert moved.dm_conversation_id == ids["dm"]
    assert _steps(engine, ids["public"]) == [("move_to_dm", "open", "open", "alice")]
    assert history.timeline(engine, ids["public"])[0].detail == {"dm_conversation_id": ids["dm"]}
    assert _steps(engine, ids["dm"])[-1] == ("move_to_dm", "resolved", "open", "alice")
    # a contact without a DM thread yet: the DM conversation is created, and says so
    other = contact(engine, external_id="4242", username="sam")
    public = conversation(engine, ids["account"], other)
    message(engine, public, "my parcel is late", contact_id=other)
    created = replies.move_to_dm(engine, public, ids["agent"]).dm_conversation_id
    (event,) = history.timeline(engine, created)
    assert (event.kind, event.from_status, event.to_status, event.actor) == ("created", None, "open", "alice")
    assert event.detail == {"from_conversation_id": public}


def _event(kind: str, at_min: int, from_s: str | None, to_s: str, **detail: object) -> ConversationEvent:
    changes = detail.pop("changes", {})
    return ConversationEvent(
        id=at_min,
        conversation_id=1,
        at=T0 + timedelta(minutes=at_min),
        kind=kind,
        from_status=from_s,
        to_status=to_s,
        actor_user_id=None,
        actor="system",
        changes=changes,  # type: ignore[arg-type]
        detail=detail,
    )


def test_first_response_and_resolution_times_from_the_history() -> None:
    t = (T0 + timedelta(minutes=2)).isoformat()
    answered = (T0 + timedelta(minutes=30)).isoformat()
    events = [
        _event("created", 3, None, "open", first_inbound_at=t, changes={"waiting_since": [None, t]}),
        _event(
            "reply_sent",
            30,
            "open",
            "open",
            changes={"waiting_since": [t, None], "first_response_at": [None, answered]},
        ),
        _event("resolve", 62, "open", "resolved"),
    ]
    times = history.times_from(1, events)
    assert (times.opened_at, times.first_response_at) == (
        T0 + timedelta(minutes=2),
        T0 + timedelta(minutes=30),
    )
    assert times.first_response_seconds == 28 * 60
    assert times.resolution_seconds == 60 * 60
    reopened = history.times_from(1, [*events, _event("inbound", 70, "resolved", "open")])
    assert reopened.resolved_at is None and reopened.resolution_seconds is None
    assert reopened.first_response_seconds == 28 * 60


def test_response_times_read_from_the_store(engine: Engine) -> None:
    ids = world(engine)
    conversations.resolve(engine, ids["public"], ids["agent"])
    times = history.response_times(engine, [ids["public"], ids["dm"]])
    assert times[ids["public"]].resolved_at is not None
    assert times[ids["dm"]].resolved_at is None and times[ids["dm"]].first_response_seconds is None


def test_tagging_is_in_the_timeline_only_when_it_changes_something(engine: Engine) -> None:
    ids = world(engine)
    cid = ids["public"]
    conversations.add_tag(engine, cid, ids["agent"], "Refund")
    conversations.add_tag(engine, cid, ids["bob"], "refund")  # already there: no row
    conversations.remove_tag(engine, cid, ids["bob"], "refund")
    conversations.remove_tag(engine, cid, ids["bob"], "refund")  # already gone: no row
    events = history.timeline(engine, cid)
    assert [(e.kind, e.actor, e.detail, e.changes) for e in events] == [
        ("tag", "alice", {"tag": "refund"}, {}),
        ("untag", "bob", {"tag": "refund"}, {}),
    ]
    assert all(e.from_status == e.to_status == "open" for e in events)


def test_activity_describes_changes_with_names_and_keeps_the_newest(engine: Engine) -> None:
    ids = world(engine)
    cid = ids["public"]
    conversations.assign(engine, cid, ids["manager"], ids["bob"])
    conversations.snooze(engine, cid, ids["agent"], T0 + timedelta(hours=3), now=T0)
    conversations.resolve(engine, cid, ids["bob"])
    act = history.activity(engine, cid)
    assert (act.total, act.hidden) == (3, 0)
    assign, snooze, resolve = act.entries
    assert assign.event.actor == "mia"
    assert assign.fields == [history.FieldChange("assignee_id", None, "bob")]
    assert snooze.fields == [history.FieldChange("snoozed_until", None, T0 + timedelta(hours=3))]
    assert (resolve.event.from_status, resolve.event.to_status) == ("snoozed", "resolved")
    assert resolve.fields == [history.FieldChange("snoozed_until", T0 + timedelta(hours=3), None)]

    newest = history.activity(engine, cid, limit=2)
    assert [e.event.kind for e in newest.entries] == ["snooze", "resolve"]  # oldest first
    assert (newest.total, newest.hidden) == (3, 1)


def test_describe_shows_priorities_as_numbers_and_unknown_users_by_id() -> None:
    changes = {
        "priority": [0.2, 0.9],
        "assignee_id": [5, 77],
        "last_message_at": [None, T0.isoformat()],  # moves with every message: not shown
        "waiting_since": [T0.isoformat(), None],
    }
    assert history.describe(changes, {5: "eve"}) == [
        history.FieldChange("assignee_id", "eve", "user #77"),
        history.FieldChange("priority", 0.2, 0.9),
        history.FieldChange("waiting_since", T0, None),
    ]
