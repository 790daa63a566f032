"""In-memory records the emulator holds: users, posts and DM events."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

POST_KINDS = ("mention", "reply", "hashtag", "name", "retweet", "spam", "org_reply", "org_post")
DM_KINDS = ("dm", "org_dm")


@dataclass
class User:
    id: str
    username: str
    name: str
    description: str = ""
    followers_count: int = 0
    following_count: int = 0
    tweet_count: int = 0
    verified: bool = False
    created_at: str = "2015-03-14T09:26:53.000Z"
    location: str | None = None
    role: str = "customer"


@dataclass
class Post:
    id: int
    text: str
    author_id: str
    kind: str
    conversation_id: int
    created_at: str
    entities: dict[str, list[dict[str, Any]]]
    in_reply_to_tweet_id: int | None = None
    in_reply_to_user_id: str | None = None
    retweeted_id: int | None = None
    quoted_id: int | None = None
    from_org: bool = False
    sent_by_client: bool = False
    direct_message_deep_link: str | None = None
    # search helpers, computed once at insert time
    folded: str = ""
    words: frozenset[str] = field(default_factory=frozenset)
    hashtags: frozenset[str] = field(default_factory=frozenset)
    mentions: frozenset[str] = field(default_factory=frozenset)
    author_username: str = ""
    author_verified: bool = False
    in_reply_to_username: str = ""

    @property
    def referenced(self) -> list[dict[str, str]]:
        refs: list[dict[str, str]] = []
        if self.retweeted_id is not None:
            refs.append({"type": "retweeted", "id": str(self.retweeted_id)})
        if self.quoted_id is not None:
            refs.append({"type": "quoted", "id": str(self.quoted_id)})
        if self.in_reply_to_tweet_id is not None:
            refs.append({"type": "replied_to", "id": str(self.in_reply_to_tweet_id)})
        return refs


@dataclass
class DmEvent:
    id: int
    text: str
    sender_id: str
    recipient_id: str
    dm_conversation_id: str
    created_at: str
    kind: str
    entities: dict[str, list[dict[str, Any]]]
    from_org: bool = False
    sent_by_client: bool = False
    opt_out: bool = False  # ground truth: the customer asked to hear no more (traffic's opt-out phrases)


def dm_conversation_id(a: str, b: str) -> str:
    """1:1 conversations are `{smaller}-{larger}`."""
    x, y = sorted((int(a), int(b)))
    return f"{x}-{y}"
