"""The audit log as read: audit events and conversation state changes merged newest first, filtered
and paged by a cursor (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from flockdesk.domain import conversation_state
from flockdesk.domain.conversation_state import ConversationState
from flockdesk.domain.errors import InvalidInput
from flockdesk.services.conversations import actions as conversations
from flockdesk.services.conversations import state as state_svc
from flockdesk.services.conversations.history import FieldChange
from flockdesk.services.team import audit, audit_log
from flockdesk.services.team.audit_log import LogEntry
from tests.services.seed import T0, world


def _rows(entries: list[LogEntry]) -> list[tuple[str, str, str, str | None]]:
    return [(e.source, e.action, e.actor, e.target_id) for e in entries]


def _timed_world(engine: Engine) -> dict[str, int]:
    """Rows at known times, two of them (one per table) at the same instant."""
    ids = world(engine)
    with engine.begin() as conn:
        audit.record(conn, ids["manager"], "mia", "user.create", "user", 7, {"username": "x"}, at=T0)
        state_svc.apply(
            conn,
            ids["public"],
            "assign",
            lambda s: conversation_state.assign(s, ids["bob"]),
            actor_id=ids["manager"],
            at=T0 + timedelta(minutes=1),
        )
        audit.record(conn, None, "system", "alert.spike", None, None, at=T0 + timedelta(minutes=2))
        state_svc.apply(
            conn,
            ids["public"],
            "resolve",
            conversation_state.resolve,
            actor_id=ids["bob"],
            at=T0 + timedelta(minutes=2),
        )
        state_svc.apply(
            conn,
            ids["dm"],
            "snooze",
            lambda s: conversation_state.snooze(s, T0 + timedelta(hours=5)),
            actor_id=ids["agent"],
            at=T0 + timedelta(minutes=3),
        )
    return ids


def test_audit_events_and_state_changes_merge_newest_first(engine: Engine) -> None:
    ids = _timed_world(engine)
    page = audit_log.read(engine)
    pub, dm = str(ids["public"]), str(ids["dm"])
    assert _rows(page.entries) == [
        ("history", "conversation.snooze", "alice", dm),
        ("audit", "alert.spike", "system", None),  # same instant as the resolve: audit rows first
        ("history", "conversation.resolve", "bob", pub),
        ("history", "conversation.assign", "mia", pub),
        ("audit", "user.create", "mia", "7"),
    ]
    assert page.next_cursor is None
    resolve, assign = page.entries[2], page.entries[3]
    assert (resolve.from_status, resolve.to_status, resolve.target_type) == (
        "open",
        "resolved",
        "conversation",
    )
    assert assign.changes == [FieldChange("assignee_id", None, "bob")]
    assert page.entries[4].details == {"username": "x"} and page.entries[4].changes == []


def test_pages_follow_the_cursor_without_gaps_or_repeats(engine: Engine) -> None:
    ids = _timed_world(engine)
    everything = audit_log.read(engine).entries
    seen: list[LogEntry] = []
    after = None
    for _ in range(5):
        page = audit_log.read(engine, limit=2, after=after)
        seen += page.entries
        assert len(page.entries) <= 2
        if page.next_cursor is None:
            break
        after = page.next_cursor
        # a row written while someone pages does not shift the next page
        conversations.reopen(engine, ids["public"], ids["agent"])
    assert _rows(seen) == _rows(everything)


def test_the_audit_rows_of_state_changes_are_left_to_the_history(engine: Engine) -> None:
    ids = world(engine)
    cid = ids["public"]
    conversations.assign(engine, cid, ids["manager"], ids["bob"])
    conversations.resolve(engine, cid, ids["bob"])
    conversations.add_tag(engine, cid, ids["agent"], "vip")
    merged = [e.action for e in audit_log.read(engine).entries]
    assert sorted(merged) == ["conversation.assign", "conversation.resolve", "conversation.tag"]
    assert {e.source for e in audit_log.read(engine).entries} == {"history"}
    alone = audit_log.read(engine, source="audit").entries
    assert [(e.source, e.action) for e in alone] == [
        ("audit", "conversation.tag"),
        ("audit", "conversation.resolve"),
        ("audit", "conversation.assign"),
    ]
    assert {e.source for e in audit_log.read(engine, source="history").entries} == {"history"}


def test_filters_apply_to_both_sources(engine: Engine) -> None:
    ids = _timed_world(engine)
    pub = str(ids["public"])
    by_mia = audit_log.read(engine, actor_user_id=ids["manager"]).entries
    assert [e.action for e in by_mia] == ["conversation.assign", "user.create"]
    assert [e.action for e in audit_log.read(engine, action="conversation.resolve").entries] == [
        "conversation.resolve"
    ]
    assert [e.action for e in audit_log.read(engine, action="alert.spike").entries] == ["alert.spike"]
    assert [e.target_id for e in audit_log.read(engine, target_type="user").entries] == ["7"]
    on_public = audit_log.read(engine, target_type="conversation", target_id=ids["public"]).entries
    assert [(e.action, e.target_id) for e in on_public] == [
        ("conversation.resolve", pub),
        ("conversation.assign", pub),
    ]
    assert audit_log.read(engine, target_id="not-a-number", source="history").entries == []
    window = audit_log.read(engine, since=T0 + timedelta(minutes=1), until=T0 + timedelta(minutes=3))
    assert [e.action for e in window.entries] == [
        "alert.spike",
        "conversation.resolve",
        "conversation.assign",
    ]


def test_a_page_is_bounded_and_bad_input_is_refused(engine: Engine) -> None:
    ids = world(engine)
    state = ConversationState(status="open")
    rows = [
        state_svc.event_row(ids["public"], "inbound", state, state, at=T0 + timedelta(seconds=i))
        for i in range(audit_log.MAX_LIMIT + 5)
    ]
    with engine.begin() as conn:
        state_svc.record_many(conn, rows)
    page = audit_log.read(engine, limit=10_000)
    assert len(page.entries) == audit_log.MAX_LIMIT and page.next_cursor is not None
    rest = audit_log.read(engine, limit=10_000, after=page.next_cursor)
    assert len(rest.entries) == 5 and rest.next_cursor is None
    with pytest.raises(InvalidInput, match="not valid"):
        audit_log.read(engine, after="12.x.3")
    with pytest.raises(InvalidInput, match="source must be"):
        audit_log.read(engine, source="everything")  # type: ignore[arg-type]
