"""Flockdesk's own types. Connectors parse platform JSON into these; nothing else sees raw JSON
except as the opaque `raw` payload that is stored for audit."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flockdesk.domain.vocabulary import Channel, MessageKind, OutboxKind
from flockdesk.domain.vocabulary import ConversationKind as ThreadKind


@dataclass(frozen=True, slots=True)
class Author:
    platform: str
    external_id: str
    username: str = ""
    name: str = ""
    bio: str = ""
    followers_count: int = 0
    verified: bool = False
    profile: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class InboundItem:
    """One platform message (post or DM event) as Flockdesk understands it."""

    platform: str
    external_id: str
    kind: MessageKind
    thread_kind: ThreadKind
    thread_id: str  # X conversation_id for posts, dm_conversation_id for DMs
    channel: Channel
    author_id: str
    text: str
    created_at: datetime
    author: Author | None = None
    entities: dict[str, Any] | None = None
    in_reply_to_external_id: str | None = None
    in_reply_to_user_id: str | None = None
    recipient_id: str | None = None  # for DMs: the other participant when the author is us
    raw: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class DeadLetter:
    origin: str
    reason: str
    payload: str


@dataclass(slots=True)
class CursorUpdate:
    """The new state of one source's cursor, written in the same transaction as the page."""

    source_id: int
    since_id: str | None
    pending_newest_id: str | None
    next_token: str | None


@dataclass(slots=True)
class Page:
    items: list[InboundItem] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    next_token: str | None = None
    newest_id: str | None = None


@dataclass(frozen=True, slots=True)
class OutboundPost:
    """A reply or DM leaving through the outbox."""

    outbox_id: int
    kind: OutboxKind
    text: str
    in_reply_to_external_id: str | None = None
    recipient_external_id: str | None = None
    dm_deep_link_recipient: str | None = None


@dataclass(frozen=True, slots=True)
class SendResult:
    external_id: str
    thread_id: str | None = None
