"""Flockdesk's own types. Connectors parse platform JSON into these; nothing else sees raw JSON
except as the opaque `raw` payload that is stored for audit."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from flockdesk.domain.vocabulary import Channel, MessageKind, OutboxKind, Transport
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
    host: str | None = None  # the instance or server of a federated network (Mastodon); None on X


@dataclass(frozen=True, slots=True)
class Engagement:
    """Public counts a platform shows on a post (impressions only where the platform gives them)."""

    likes: int = 0
    reposts: int = 0
    replies: int = 0
    quotes: int = 0
    impressions: int | None = None

    def to_json(self) -> dict[str, int]:
        """The counts that are not zero (or not unknown): stored on every post, so kept small."""
        out: dict[str, int] = {}
        if self.likes:
            out["likes"] = self.likes
        if self.reposts:
            out["reposts"] = self.reposts
        if self.replies:
            out["replies"] = self.replies
        if self.quotes:
            out["quotes"] = self.quotes
        if self.impressions:
            out["impressions"] = self.impressions
        return out

    @classmethod
    def from_json(cls, data: Any) -> Engagement | None:
        """As stored in `messages.engagement` (None when absent or not an object)."""
        if not isinstance(data, dict):
            return None
        impressions = data.get("impressions")
        return cls(
            _count(data.get("likes")),
            _count(data.get("reposts")),
            _count(data.get("replies")),
            _count(data.get("quotes")),
            _count(impressions) if impressions is not None else None,
        )


MediaKind = Literal["photo", "video", "gif", "other"]


@dataclass(frozen=True, slots=True)
class Media:
    """A photo, video or GIF attached to a message; url is the media itself or its page."""

    kind: MediaKind
    url: str | None = None
    preview_url: str | None = None
    alt_text: str | None = None
    width: int | None = None
    height: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "url": self.url,
            "preview_url": self.preview_url,
            "alt_text": self.alt_text,
            "width": self.width,
            "height": self.height,
        }

    @classmethod
    def list_from_json(cls, data: Any) -> tuple[Media, ...]:
        """As stored in `messages.media` (unusable entries skipped)."""
        out = []
        for m in data if isinstance(data, list) else []:
            if not isinstance(m, dict):
                continue
            kind = m.get("kind")
            out.append(
                cls(
                    kind if kind in ("photo", "video", "gif") else "other",
                    _str(m.get("url")),
                    _str(m.get("preview_url")),
                    _str(m.get("alt_text")),
                    _size(m.get("width")),
                    _size(m.get("height")),
                )
            )
        return tuple(out)


@dataclass(frozen=True, slots=True)
class Link:
    """A link in a message's text, expanded (url) as the platform resolved it."""

    url: str
    display: str = ""

    def to_json(self) -> dict[str, str]:
        return {"url": self.url, "display": self.display}

    @classmethod
    def list_from_json(cls, data: Any) -> tuple[Link, ...]:
        """As stored in `messages.links` (entries without a url skipped)."""
        out = []
        for link in data if isinstance(data, list) else []:
            if isinstance(link, dict) and isinstance(link.get("url"), str) and link["url"]:
                out.append(cls(link["url"], link.get("display") or ""))
        return tuple(out)


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _size(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True, slots=True)
class InboundItem:
    """One platform message (post or DM event) as Flockdesk understands it."""

    platform: str
    external_id: str
    kind: MessageKind
    thread_kind: ThreadKind
    thread_id: str  # the platform's thread: X conversation_id for posts, dm_conversation_id for DMs
    channel: Channel
    author_id: str
    text: str
    created_at: datetime
    author: Author | None = None
    entities: dict[str, Any] | None = None
    in_reply_to_external_id: str | None = None
    in_reply_to_user_id: str | None = None
    recipient_id: str | None = None  # for DMs: the other participant when the author is us
    engagement: Engagement | None = None
    media: tuple[Media, ...] = ()
    links: tuple[Link, ...] = ()
    # who the post tags (platform user ids, and handles lower-cased without "@") and what it quotes:
    # ingest decides from these whether the post summoned the account (a mention, or a quote)
    mentioned_ids: tuple[str, ...] = ()
    mentioned_handles: tuple[str, ...] = ()
    quoted_post_id: str | None = None
    quoted_author_id: str | None = None  # when the platform said whose post is quoted
    raw: dict[str, Any] | None = None  # the platform's own JSON, stored for audit; never read again
    # for DMs: how it travelled (None: the platform's only DM transport, stored as "legacy")
    transport: Transport | None = None
    quick_reply: dict[str, Any] | None = None  # an encrypted chat's quick-reply request or answer


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
