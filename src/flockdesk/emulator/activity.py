"""The X Activity API's event log: every event the emulated world produces, in order.

Producers (new posts that mention, reply to or quote the org, follows, legacy DMs, X Chat messages,
OAuth revokes) call `emit`; delivery (the persistent stream, webhooks, replay) reads the log by
sequence number, filtered by each subscription. Event types and the envelope follow X's docs:
`{"data": {"filter": {"user_id": ...}, "event_type": ..., "tag": ..., "payload": {...}}}`.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

ACTIVITY_LOG_MAX = 500_000


@dataclass(frozen=True, slots=True)
class ActivityEvent:
    seq: int  # 1, 2, ... in the order the events happened
    event_type: str  # e.g. "post.mention.create", "dm.received", "chat.received", "follow.follow"
    user_id: str  # the subscribed user the event concerns (the filter's user_id)
    payload: dict[str, Any]
    direction: str | None = None  # "sent" | "received" for DM and chat events
    at: float = 0.0  # emulator clock, Unix seconds
    includes: dict[str, Any] | None = None  # expanded objects (users, tweets) for post events


@dataclass
class ActivityLog:
    """Append-only, bounded; `changed` wakes stream readers when an event arrives."""

    events: deque[ActivityEvent] = field(default_factory=lambda: deque(maxlen=ACTIVITY_LOG_MAX))
    changed: threading.Condition = field(default_factory=threading.Condition)
    last_seq: int = 0

    def emit(
        self,
        event_type: str,
        user_id: str,
        payload: dict[str, Any],
        *,
        direction: str | None = None,
        at: float = 0.0,
        includes: dict[str, Any] | None = None,
    ) -> ActivityEvent:
        """Append an event; `at` defaults to now (backfill and replay select events by time)."""
        with self.changed:
            self.last_seq += 1
            event = ActivityEvent(
                self.last_seq, event_type, user_id, payload, direction, at or time.time(), includes
            )
            self.events.append(event)
            self.changed.notify_all()
        return event

    def since(self, seq: int, limit: int = 1000) -> list[ActivityEvent]:
        """Events with a sequence number above `seq`, oldest first, at most `limit`."""
        with self.changed:
            if not self.events or seq >= self.last_seq:
                return []
            first = self.events[0].seq
            start = max(0, seq + 1 - first)
            return [self.events[i] for i in range(start, min(len(self.events), start + limit))]

    def seq_at(self, at: float) -> int:
        """The sequence number just before the first event at or after `at` (a resume point)."""
        with self.changed:
            seq = self.last_seq
            for event in reversed(self.events):
                if event.at < at:
                    break
                seq = event.seq - 1
            return seq

    def wait(self, seq: int, timeout_s: float) -> bool:
        """Block until an event after `seq` exists or `timeout_s` passes; True when one does."""
        with self.changed:
            return self.changed.wait_for(lambda: self.last_seq > seq, timeout=timeout_s)
