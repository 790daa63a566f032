"""Pure rules of the ingest write path: how a conversation's state moves when messages arrive, and
how an echo of the organisation's own post or DM is recognised as an outbox row.

No I/O here; services/ingest/ingestor.py feeds these with rows it read in bulk.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flockdesk.connectors.base import HandleRules
from flockdesk.domain.types import InboundItem

LABEL_KEYS = ("intent", "sentiment", "sensitive", "move_to_dm", "urgent", "influencer", "priority")


def utc(value: datetime) -> datetime:
    """Aware UTC (SQLite hands back naive datetimes that are UTC already)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(slots=True)
class ConversationState:
    """The columns of a conversation that ingest maintains."""

    status: str = "open"
    last_message_at: datetime | None = None
    waiting_since: datetime | None = None
    first_response_at: datetime | None = None
    priority: float = 0.0
    snoozed_until: datetime | None = None

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> ConversationState:
        def t(key: str) -> datetime | None:
            value = row[key]
            return None if value is None else utc(value)

        return cls(
            status=row["status"],
            last_message_at=t("last_message_at"),
            waiting_since=t("waiting_since"),
            first_response_at=t("first_response_at"),
            priority=float(row["priority"] or 0.0),
            snoozed_until=t("snoozed_until"),
        )


@dataclass(slots=True)
class Arrivals:
    """The messages one batch adds to one conversation."""

    inbound: list[tuple[datetime, float | None]] = field(default_factory=list)  # (created_at, priority)
    outbound: list[datetime] = field(default_factory=list)

    def latest(self) -> datetime:
        times = [t for t, _ in self.inbound] + self.outbound
        return max(times)


def advance(prev: ConversationState, new: Arrivals) -> ConversationState:
    """The conversation's state after the batch.

    - last_message_at: the newest message.
    - waiting_since: the oldest inbound message not followed by an outbound one (NULL when answered).
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
    return ConversationState(status, last, waiting, first, priority if waiting is not None else 0.0, snoozed)


NO_LABELS: dict[str, Any] = dict.fromkeys(LABEL_KEYS)


def labels_to_columns(labels: Mapping[str, Any] | None) -> dict[str, Any]:
    """Triage label dict -> message columns (unknown keys ignored, missing or unusable ones NULL)."""
    if not labels:
        return NO_LABELS
    out = dict(NO_LABELS)
    for key in LABEL_KEYS:
        if key in labels:
            out[key] = labels[key]
    sensitive = out["sensitive"]
    if sensitive is not None and not isinstance(sensitive, list):
        out["sensitive"] = sorted(sensitive) if isinstance(sensitive, set | frozenset | tuple) else None
    for flag in ("move_to_dm", "urgent", "influencer"):
        if out[flag] is not None:
            out[flag] = bool(out[flag])
    for text in ("intent", "sentiment"):
        if out[text] is not None and not isinstance(out[text], str):
            out[text] = None
    try:
        out["priority"] = None if out["priority"] is None else min(1.0, max(0.0, float(out["priority"])))
    except (TypeError, ValueError):
        out["priority"] = None
    return out


def same_text(sent: str, echoed: str, handles: HandleRules) -> bool:
    """An echo's text matches what was sent (a platform may prepend @mentions to replies)."""
    if sent == echoed:
        return True
    return handles.strip_leading_mentions(sent).strip() == handles.strip_leading_mentions(echoed).strip()


def match_sending(
    item: InboundItem, candidates: Sequence[Mapping[Any, Any]], used: set[int], handles: HandleRules
) -> Mapping[Any, Any] | None:
    """The outbox row in status 'sending' that this echo is, by kind, text and target."""
    for row in candidates:
        if row["id"] in used:
            continue
        if item.thread_kind == "dm":
            if row["kind"] != "dm" or (
                item.recipient_id and row["recipient_external_id"] != item.recipient_id
            ):
                continue
        else:
            if row["kind"] not in ("reply", "public_ack"):
                continue
            if row["in_reply_to_external_id"] != item.in_reply_to_external_id:
                continue
        if same_text(row["text"], item.text, handles):
            return row
    return None
