"""Who is viewing or typing in a conversation, for the collision warning. In memory, per process.

Entries expire: a viewer after VIEW_TTL seconds without a touch, typing after TYPING_TTL seconds.
With several web processes each has its own registry (a known limit; a shared store can replace it).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from flockdesk.domain.utc import as_utc, utcnow

VIEW_TTL = timedelta(seconds=30)
TYPING_TTL = timedelta(seconds=8)


@dataclass(frozen=True, slots=True)
class Presence:
    user_id: int
    username: str
    typing: bool
    seen_at: datetime


class PresenceRegistry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        # conversation id -> user id -> (username, seen_at, typing_at)
        self._entries: dict[int, dict[int, tuple[str, datetime, datetime | None]]] = {}

    def touch(
        self,
        conversation_id: int,
        user_id: int,
        username: str,
        *,
        typing: bool = False,
        now: datetime | None = None,
    ) -> None:
        at = as_utc(now) if now else utcnow()
        with self._lock:
            users = self._entries.setdefault(conversation_id, {})
            previous = users.get(user_id)
            typing_at = at if typing else (previous[2] if previous else None)
            users[user_id] = (username, at, typing_at)

    def leave(self, conversation_id: int, user_id: int) -> None:
        with self._lock:
            users = self._entries.get(conversation_id)
            if users is not None:
                users.pop(user_id, None)
                if not users:
                    del self._entries[conversation_id]

    def others(
        self, conversation_id: int, user_id: int | None, now: datetime | None = None
    ) -> list[Presence]:
        """Everyone else present in the conversation, typists first."""
        at = as_utc(now) if now else utcnow()
        found: list[Presence] = []
        with self._lock:
            users = self._entries.get(conversation_id, {})
            for uid, (name, seen_at, typing_at) in list(users.items()):
                if at - seen_at > VIEW_TTL:
                    del users[uid]
                    continue
                if uid == user_id:
                    continue
                typing = typing_at is not None and at - typing_at <= TYPING_TTL
                found.append(Presence(uid, name, typing, seen_at))
        return sorted(found, key=lambda p: (not p.typing, p.username))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


presence = PresenceRegistry()
