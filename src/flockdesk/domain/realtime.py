"""Real-time events as Flockdesk sees them, whichever platform and delivery (stream or webhook) they
came by. A connector parses each delivered envelope into one `ActivityEvent`: a message to store
(`item`), a follower change, an access revocation, an encrypted-chat envelope for the chat sink, a
dead letter, or nothing to do (`ignored`, e.g. a read receipt)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flockdesk.domain.types import Author, DeadLetter, InboundItem


@dataclass(frozen=True, slots=True)
class FollowChange:
    """Someone started (`follows=True`) or stopped following the account."""

    follower: Author
    follows: bool


@dataclass(frozen=True, slots=True)
class AccessRevoked:
    """The account's owner revoked the app's access: the account must be connected again."""

    user_id: str
    app_id: str | None = None


@dataclass(frozen=True, slots=True)
class ChatEnvelope:
    """An encrypted-chat event as delivered (`payload` untouched: only the chat connector can read it)."""

    event_uuid: str
    event_type: str  # e.g. "chat.received", "chat.sent", "chat.conversation_join"
    user_id: str  # the subscribed account's platform user id
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ActivityEvent:
    event_uuid: str  # the same on every delivery of this event (stream, backfill, webhook, replay)
    event_type: str
    user_id: str | None  # the subscribed account's platform user id (None when the envelope lacks it)
    created_at: datetime | None = None  # when the event happened, when the platform says
    item: InboundItem | None = None
    follow: FollowChange | None = None
    revoked: AccessRevoked | None = None
    chat: ChatEnvelope | None = None
    dead: DeadLetter | None = None
    ignored: bool = False  # understood, nothing to store (read receipts, typing, reposts)
