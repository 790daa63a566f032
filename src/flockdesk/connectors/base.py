"""Small Protocols, one per platform capability, and the errors and results they share.

A connector parses platform JSON into Flockdesk's own types (domain.types) before anything else sees
it; the raw payload travels only as the opaque `raw` of an item or the `payload` of a dead letter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from flockdesk.domain.types import Author, Page, SendResult


@dataclass(frozen=True, slots=True)
class RateLimitState:
    """What the platform said in its `x-rate-limit-*` headers (reset: Unix seconds)."""

    limit: int | None
    remaining: int | None
    reset_at: float | None


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One HTTP call, reported to the `on_call` observer for cost accounting and rate-limit state."""

    # mentions | search | own_posts | dm_events | followers | users_me | post_create | dm_create |
    # hide_reply | token
    endpoint: str
    status: int | None  # None: no response (timeout, connection error)
    items: int = 0
    rate: RateLimitState | None = None
    has_url: bool = False  # post_create only: the text carried a URL (priced higher)


CallObserver = Callable[[CallRecord], None]


@dataclass(slots=True)
class FetchedPage:
    page: Page
    rate: RateLimitState | None = None


@dataclass(slots=True)
class FetchedUsers:
    users: list[Author] = field(default_factory=list)
    next_token: str | None = None


class ConnectorError(Exception):
    """Base of every error a connector raises; `detail` is safe to show to a user."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class RateLimited(ConnectorError):
    """429, or the remaining quota is spent: do not call `endpoint` again before `reset_at`."""

    def __init__(self, endpoint: str, reset_at: float | None, detail: str = "rate limited") -> None:
        super().__init__(detail)
        self.endpoint = endpoint
        self.reset_at = reset_at


class TransientError(ConnectorError):
    """5xx, timeout or connection error after the bounded retries. `maybe_applied` is True when a
    write may have reached the platform (a timeout or 5xx after the request was sent)."""

    def __init__(self, detail: str, *, maybe_applied: bool = True) -> None:
        super().__init__(detail)
        self.maybe_applied = maybe_applied


class AuthError(ConnectorError):
    """401/403: the token is wrong, expired or lacks a scope."""


class PlatformRejected(ConnectorError):
    """A 4xx with the platform's problem+json reason; the same request will fail again."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status


class MalformedResponse(ConnectorError):
    """The body is not the JSON the API promises; `body` is kept for the dead letter."""

    def __init__(self, endpoint: str, reason: str, body: str) -> None:
        super().__init__(reason)
        self.endpoint = endpoint
        self.body = body


@runtime_checkable
class IdentityReader(Protocol):
    def get_me(self) -> Author: ...


@runtime_checkable
class MentionsReader(Protocol):
    def fetch_mentions(
        self, user_id: str, *, since_id: str | None = None, pagination_token: str | None = None
    ) -> FetchedPage: ...


@runtime_checkable
class SearchReader(Protocol):
    def fetch_search(
        self, query: str, *, since_id: str | None = None, next_token: str | None = None
    ) -> FetchedPage: ...


@runtime_checkable
class OwnPostsReader(Protocol):
    """The account's own recent posts, newest first (X: GET /2/users/:id/tweets, an owned read): how the
    outbox finds a post that landed although its answer was lost."""

    def fetch_own_posts(
        self, user_id: str, *, since: datetime | None = None, pagination_token: str | None = None
    ) -> FetchedPage: ...


@runtime_checkable
class DMReader(Protocol):
    def fetch_dm_events(self, *, pagination_token: str | None = None) -> FetchedPage: ...


@runtime_checkable
class FollowersReader(Protocol):
    def fetch_followers(self, user_id: str, *, pagination_token: str | None = None) -> FetchedUsers: ...


@runtime_checkable
class PostSender(Protocol):
    def send_post(self, text: str, *, in_reply_to: str | None = None) -> SendResult: ...


@runtime_checkable
class DMSender(Protocol):
    def send_dm(self, recipient_id: str, text: str) -> SendResult: ...


@runtime_checkable
class ReplyModerator(Protocol):
    """Hides or unhides a reply in a conversation the account started (X: PUT /2/tweets/:id/hidden)."""

    def hide_reply(self, post_id: str, *, hidden: bool = True) -> bool: ...
