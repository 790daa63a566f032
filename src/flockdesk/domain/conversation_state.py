"""The conversation state machine: pure transitions from a state and an event to the next state.

A conversation's state is its status (open, snoozed, resolved), the waiting clock (`waiting_since`:
the oldest inbound message nobody has answered), its priority in the inbox (the highest triage
priority among the unanswered messages, 0 when nothing waits), the first response time, the snooze
and follow-up times and the assignee. Every change of these goes through one function here; the
service `services/conversations/state.py` reads the row, applies the function, writes the changed
columns and one history row, in the caller's transaction.

Rules:
- New inbound messages start (or keep) the waiting clock and raise the priority to their own; a
  resolved or snoozed conversation that gets one reopens.
- An outbound message (sent by the outbox, or its echo coming back through the API) answers every
  inbound message older than it (a sent reply: every message stored before it was sent): the clock stops, the priority drops to 0 and the first response
  time is set once. The send and the echo are the same transition, so the inbox order does not
  change when the echo arrives.
- Snooze, follow up, resolve, reopen, assign, a due wake-up and labels filled in later (the priority)
  change only what they name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any

from flockdesk.domain.vocabulary import ConversationStatus

# The columns ingest maintains (it never touches the assignee or the follow-up time).
MESSAGE_COLUMNS = (
    "status",
    "last_message_at",
    "waiting_since",
    "first_response_at",
    "priority",
    "snoozed_until",
)


@dataclass(frozen=True, slots=True)
class ConversationState:
    """The columns of a conversation that its state transitions change."""

    status: ConversationStatus = "open"
    last_message_at: datetime | None = None
    waiting_since: datetime | None = None
    first_response_at: datetime | None = None
    priority: float = 0.0
    snoozed_until: datetime | None = None
    follow_up_at: datetime | None = None
    assignee_id: int | None = None

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> ConversationState:
        """From a conversations row (or any mapping with some of its columns; the rest default)."""

        def t(key: str) -> datetime | None:
            return row.get(key)

        return cls(
            status=row["status"],
            last_message_at=t("last_message_at"),
            waiting_since=t("waiting_since"),
            first_response_at=t("first_response_at"),
            priority=float(row.get("priority") or 0.0),
            snoozed_until=t("snoozed_until"),
            follow_up_at=t("follow_up_at"),
            assignee_id=row.get("assignee_id"),
        )

    def columns(self, names: tuple[str, ...] | None = None) -> dict[str, Any]:
        """Column values to write: all of them, or those named. (Not `asdict`: it deep-copies, and
        ingest calls this for every conversation of every page.)"""
        return {n: getattr(self, n) for n in (names or COLUMNS)}

    def changes(self, new: ConversationState) -> dict[str, tuple[Any, Any]]:
        """{column: (before, after)} for every column that differs in `new`."""
        out: dict[str, tuple[Any, Any]] = {}
        for name in COLUMNS:
            before, after = getattr(self, name), getattr(new, name)
            if before != after:
                out[name] = (before, after)
        return out


COLUMNS = tuple(f.name for f in fields(ConversationState))


NEW = ConversationState()  # the "before" of a conversation that did not exist yet


@dataclass(slots=True)
class Arrivals:
    """The messages one batch adds to one conversation."""

    inbound: list[tuple[datetime, float | None]] = field(default_factory=list)  # (created_at, priority)
    outbound: list[datetime] = field(default_factory=list)

    def latest(self) -> datetime:
        return max([t for t, _ in self.inbound] + self.outbound)

    def first_inbound(self) -> datetime | None:
        return min((t for t, _ in self.inbound), default=None)


def receive(prev: ConversationState, new: Arrivals) -> ConversationState:
    """The state after messages arrive (ingest), in time order:

    - last_message_at: the newest message.
    - waiting_since: the oldest inbound message not followed by an outbound one (None when answered).
    - first_response_at: the first outbound message that answered a waiting customer.
    - status: a resolved or snoozed conversation that gets a new inbound message reopens.
    - priority: the max triage priority of its unanswered inbound messages (0 when nothing waits).
    """
    events: list[tuple[datetime, int, float | None]] = [(t, 0, p) for t, p in new.inbound]
    events += [(t, 1, None) for t in new.outbound]
    events.sort(key=lambda e: (e[0], e[1]))
    waiting = prev.waiting_since
    first = prev.first_response_at
    priority = prev.priority if waiting is not None else 0.0
    for at, is_out, prio in events:
        if is_out:
            if waiting is not None and at >= waiting:
                waiting = None
                priority = 0.0
                first = first or at
        else:
            waiting = at if waiting is None or at < waiting else waiting
            if prio is not None:
                priority = max(priority, float(prio))
    latest = new.latest()
    last = latest if prev.last_message_at is None or latest > prev.last_message_at else prev.last_message_at
    status, snoozed = prev.status, prev.snoozed_until
    if new.inbound and status in ("resolved", "snoozed"):
        status, snoozed = "open", None
    return ConversationState(  # not dataclasses.replace: ingest calls this per conversation per page
        status,
        last,
        waiting,
        first,
        priority if waiting is not None else 0.0,
        snoozed,
        prev.follow_up_at,
        prev.assignee_id,
    )


def reply_sent(prev: ConversationState, at: datetime) -> ConversationState:
    """The outbox sent a reply or DM at `at` (our clock): what its echo will do when ingest sees it.

    It answers every message stored before it was sent, even one the platform stamped a little
    later than our clock says the reply left (clock skew): the agent had that message in front of them.
    """
    waiting = prev.waiting_since
    return receive(prev, Arrivals(outbound=[at if waiting is None else max(at, waiting)]))


def snooze(prev: ConversationState, until: datetime) -> ConversationState:
    return replace(prev, status="snoozed", snoozed_until=until)


def follow_up(prev: ConversationState, due: datetime, assignee_id: int | None) -> ConversationState:
    """Put away until `due`; it comes back open for `assignee_id`."""
    return replace(prev, status="snoozed", snoozed_until=due, follow_up_at=due, assignee_id=assignee_id)


def resolve(prev: ConversationState) -> ConversationState:
    return replace(prev, status="resolved", snoozed_until=None, follow_up_at=None)


def reopen(prev: ConversationState) -> ConversationState:
    return replace(prev, status="open", snoozed_until=None, follow_up_at=None)


def assign(prev: ConversationState, assignee_id: int | None) -> ConversationState:
    return replace(prev, assignee_id=assignee_id)


def wake(prev: ConversationState, now: datetime) -> ConversationState:
    """A snooze or follow-up came due by `now`: open again (follow_up_at stays, so the view can say
    why). Anything else (not snoozed, or snoozed until later) is left as it is."""
    if prev.status != "snoozed" or prev.snoozed_until is None or prev.snoozed_until > now:
        return prev
    return replace(prev, status="open", snoozed_until=None)


def raise_priority(prev: ConversationState, priority: float) -> ConversationState:
    """Labels filled in after the messages were stored: a waiting conversation's priority becomes at
    least `priority` (that of its newly labelled unanswered messages); nothing else changes."""
    if prev.waiting_since is None or priority <= prev.priority:
        return prev
    return replace(prev, priority=priority)


def open_for_dm(prev: ConversationState) -> ConversationState:
    """The DM conversation an agent moves a public one into is open, whatever it was."""
    return replace(prev, status="open", snoozed_until=None)
