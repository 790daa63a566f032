"""The conversation state machine: pure transitions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flockdesk.domain import conversation_state as cs
from flockdesk.domain.conversation_state import Arrivals, ConversationState

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _waiting(priority: float = 0.9) -> ConversationState:
    return cs.receive(ConversationState(), Arrivals(inbound=[(T0, priority)]))


def test_inbound_starts_the_clock_and_sets_priority() -> None:
    state = _waiting()
    assert (state.status, state.waiting_since, state.priority, state.last_message_at) == ("open", T0, 0.9, T0)


def test_a_sent_reply_is_the_same_transition_as_its_echo() -> None:
    sent_at = T0 + timedelta(minutes=5)
    after_send = cs.reply_sent(_waiting(), sent_at)
    assert after_send.waiting_since is None
    assert after_send.priority == 0.0  # drops at once: the answered conversation leaves the top
    assert after_send.first_response_at == sent_at
    # the echo (the same post coming back through the API, a moment earlier by the platform's clock)
    after_echo = cs.receive(after_send, Arrivals(outbound=[sent_at - timedelta(seconds=1)]))
    assert after_echo == after_send
    assert cs.receive(_waiting(), Arrivals(outbound=[sent_at])) == after_send


def test_an_echo_older_than_the_waiting_message_does_not_answer_it() -> None:
    assert cs.receive(_waiting(), Arrivals(outbound=[T0 - timedelta(minutes=1)])).waiting_since == T0


def test_a_sent_reply_answers_what_was_stored_even_with_clock_skew() -> None:
    after = cs.reply_sent(_waiting(), T0 - timedelta(seconds=3))  # the platform's clock runs ahead of ours
    assert (after.waiting_since, after.priority, after.first_response_at) == (None, 0.0, T0)


def test_new_inbound_reopens_resolved_and_snoozed() -> None:
    for before in (cs.resolve(_waiting()), cs.snooze(_waiting(), T0 + timedelta(days=1))):
        after = cs.receive(before, Arrivals(inbound=[(T0 + timedelta(hours=1), 0.5)]))
        assert (after.status, after.snoozed_until) == ("open", None)


def test_snooze_follow_up_resolve_reopen_assign() -> None:
    due = T0 + timedelta(hours=4)
    followed = cs.follow_up(_waiting(), due, 7)
    assert (followed.status, followed.snoozed_until, followed.follow_up_at, followed.assignee_id) == (
        "snoozed",
        due,
        due,
        7,
    )
    resolved = cs.resolve(followed)
    assert (resolved.status, resolved.snoozed_until, resolved.follow_up_at) == ("resolved", None, None)
    assert cs.reopen(resolved).status == "open"
    assert cs.assign(resolved, None).assignee_id is None
    assert resolved.waiting_since == T0  # none of these touch the waiting clock


def test_wake_only_when_due() -> None:
    snoozed = cs.snooze(_waiting(), T0 + timedelta(hours=1))
    assert cs.wake(snoozed, T0) == snoozed  # not yet
    woke = cs.wake(snoozed, T0 + timedelta(hours=1))
    assert (woke.status, woke.snoozed_until) == ("open", None)
    resolved = cs.resolve(snoozed)
    assert cs.wake(resolved, T0 + timedelta(days=1)) == resolved


def test_changes_lists_before_and_after() -> None:
    before = _waiting()
    after = cs.reply_sent(before, T0 + timedelta(minutes=1))
    assert set(before.changes(after)) == {"last_message_at", "waiting_since", "first_response_at", "priority"}
    assert before.changes(after)["priority"] == (0.9, 0.0)


def test_labels_filled_in_later_only_raise_a_waiting_conversations_priority() -> None:
    waiting = _waiting(0.3)
    raised = cs.raise_priority(waiting, 0.8)
    assert waiting.changes(raised) == {"priority": (0.3, 0.8)}
    assert cs.raise_priority(waiting, 0.1) == waiting  # never lowered
    answered = cs.reply_sent(waiting, T0 + timedelta(minutes=1))
    assert cs.raise_priority(answered, 0.99) == answered  # nothing waits: stays at 0
