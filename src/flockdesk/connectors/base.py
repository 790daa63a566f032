"""Small Protocols, one per platform capability, and the errors and results they share.

Two kinds of object come from the registry (connectors/registry.py) for a platform:

* a **connector**, one account's network client (needs a token): the reader and sender Protocols
  below (`MentionsReader`, `DMReader`, `SearchReader`, `OwnPostsReader`, `PostSender`, `DMSender`,
  `ReplyModerator`, ...), plus the platform's `CursorOrder`;
* a **profile**, the platform's rules, which need no token: `DMLinks`, `WebLinks`, `Policy`,
  `Pricing`, `QueryRules`, `CursorOrder`, `HandleRules`, `PacingRules`, `ArchiveParser`,
  `TokenRefresher`, and a display name.

Callers depend on the smallest Protocol they use. A connector parses platform JSON into Flockdesk's
own types (domain.types) before anything else sees it; the raw payload travels only as the opaque
`raw` of an item (stored for audit) or the `payload` of a dead letter.

Endpoint names in `CallRecord`, `RateLimited` and pricing are Flockdesk's logical names, the same for
every platform: mentions | search | own_posts | dm_events | followers | users_me | post_create |
dm_create | hide_reply | token.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from flockdesk.domain.policy import Action, Decision, Facts
from flockdesk.domain.realtime import ActivityEvent, ChatEnvelope
from flockdesk.domain.types import Author, DeadLetter, InboundItem, Page, SendResult


@dataclass(frozen=True, slots=True)
class RateLimitState:
    """What the platform said in its `x-rate-limit-*` headers (reset: Unix seconds)."""

    limit: int | None
    remaining: int | None
    reset_at: float | None


@dataclass(frozen=True, slots=True)
class EndpointPacing:
    """How calls to one endpoint are spread when the platform's headers say nothing (PacingRules)."""

    min_spacing_s: float = 0.0  # the shortest even spacing that keeps within the documented limit
    always_spread: bool = False  # spread calls evenly over the window even while quota is left


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One HTTP call, reported to the `on_call` observer for cost accounting and rate-limit state."""

    endpoint: str  # a logical endpoint name (module docstring)
    status: int | None  # None: no response (timeout, connection error)
    items: int = 0
    rate: RateLimitState | None = None
    has_url: bool = False  # post_create only: the text carried a URL (priced higher on X)
    pacing: EndpointPacing | None = None  # the platform's fallback pacing for this endpoint
    # the billable resources a successful read returned, in `data` and `includes`, each named
    # "<type>:<id>" ("post:123", "user:9", "dm:77"): the meter bills each once per UTC day
    resources: tuple[str, ...] = ()
    reply: bool = False  # post_create only: a reply (on X, one the author summoned the account to)


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

    def __init__(self, status: int, detail: str, *, body: Any = None) -> None:
        super().__init__(detail)
        self.status = status
        self.body = body  # the parsed problem body, for a connector that adapts to it (DriftAware)


@dataclass(frozen=True, slots=True)
class Degradation:
    """A request parameter the platform's API refused (a 400 that named it) and what the connector
    asks for instead. The names are the platform's own spelling, opaque to services: they store
    them per source, hand them back before each read, and show them to admins."""

    parameter: str  # e.g. "post.fields"
    value: str | None  # the refused value in that list parameter; None: the whole parameter
    replacement: str | None  # "param" or "param=value" asked for instead; None: dropped
    detail: str = ""  # the platform's words

    def describe(self) -> str:
        what = f"{self.parameter}={self.value}" if self.value is not None else self.parameter
        return f"{what} → {self.replacement}" if self.replacement else f"{what} dropped"


@runtime_checkable
class DriftAware(Protocol):
    """A connector that adapts its requests to an API that refuses some parameters: `use_degradations`
    before a read (what was learnt earlier for that source), `degradations` after it (possibly more).
    `endpoint` is the logical endpoint name (mentions | search | dm_events | own_posts)."""

    def use_degradations(self, endpoint: str, degradations: list[Degradation]) -> None: ...

    def degradations(self, endpoint: str) -> list[Degradation]: ...


class InvalidQuery(ValueError):
    """A listening query the platform cannot run; the message says how to fix it."""


@dataclass(frozen=True)
class TokenSet:
    """What a token refresh returned (expires_at: Unix seconds, None when the platform gave none)."""

    access_token: str
    refresh_token: str | None
    expires_at: float | None


class MalformedResponse(ConnectorError):
    """The body is not the JSON the API promises; `body` is kept for the dead letter, whose origin
    names the platform."""

    def __init__(self, endpoint: str, reason: str, body: str, *, platform: str = "unknown") -> None:
        super().__init__(reason)
        self.endpoint = endpoint
        self.body = body
        self.platform = platform


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


# ---- encrypted chat (X Chat) ----------------------------------------------------------------------


class ChatKeys:
    """The account's private chat keys (an exported key blob) and the public key version the platform
    has them registered under. The blob never shows itself in repr or str."""

    __slots__ = ("_blob", "version")

    def __init__(self, blob: bytes, version: str) -> None:
        self._blob = bytes(blob)
        self.version = version

    def reveal(self) -> bytes:
        return self._blob

    def __repr__(self) -> str:
        return f"ChatKeys(version={self.version!r}, blob='***')"

    __str__ = __repr__


ChatKeysLoader = Callable[[], "ChatKeys | None"]


class ChatKeysMissing(ConnectorError):
    """The account has no usable chat keys: generate new ones or import a backup."""


@dataclass(frozen=True, slots=True)
class ChatConversation:
    """One encrypted conversation as listed: its id, members, and when it last changed."""

    id: str
    participant_ids: tuple[str, ...]
    is_group: bool
    updated_at: str | None = None  # the platform's timestamp, ISO 8601 UTC (orders lexically)


@dataclass(slots=True)
class FetchedChatConversations:
    conversations: list[ChatConversation] = field(default_factory=list)
    authors: dict[str, Author] = field(default_factory=dict)  # user id -> profile, where given
    next_token: str | None = None


@runtime_checkable
class ChatKeyManager(Protocol):
    def create_chat_keys(self) -> ChatKeys:
        """New keypairs, their public keys registered on the platform; returns the private blob."""
        ...

    def registered_chat_key_version(self, blob: bytes) -> str | None:
        """The public key version under which the platform has this blob's keys, None when it has not."""
        ...


@runtime_checkable
class ChatReader(Protocol):
    def fetch_chat_conversations(self, *, pagination_token: str | None = None) -> FetchedChatConversations:
        """The account's conversations, most recently active first."""
        ...

    def fetch_chat_events(
        self,
        conversation: ChatConversation,
        *,
        since_id: str | None = None,
        authors: dict[str, Author] | None = None,
    ) -> FetchedPage:
        """The conversation's events newer than `since_id`, decrypted and verified: messages as items,
        every event that cannot be decrypted or verified as a dead letter with the reason;
        `page.newest_id` is the newest event id read. Raises ChatKeysMissing without keys."""
        ...

    def decrypt_chat_event(self, payload: dict[str, Any], *, event_type: str) -> Page:
        """One real-time chat event (the platform's payload) as an item or a dead letter."""
        ...


@runtime_checkable
class ChatSender(Protocol):
    def send_chat(
        self, recipient_id: str, text: str, *, quick_reply: dict[str, Any] | None = None
    ) -> SendResult:
        """Encrypt, sign and send `text` in the one-to-one chat with `recipient_id`, under the
        conversation's latest key (rotating it first when the account cannot use that key)."""
        ...


# ---- a connector's composite views (what the worker and the outbox hold) --------------------------


@runtime_checkable
class CursorOrder(Protocol):
    """How the platform's ids order in time, so a sweep's cursor can move (any id format)."""

    def compare_ids(self, a: str, b: str) -> int:
        """Negative when `a` is older than `b`, 0 when equal, positive when newer."""
        ...


@runtime_checkable
class Closeable(Protocol):
    def close(self) -> None: ...


@runtime_checkable
class SourceReader(MentionsReader, SearchReader, DMReader, CursorOrder, Protocol):
    """What a sweep of any source kind needs."""


@runtime_checkable
class Sender(PostSender, DMSender, Protocol):
    """What the outbox needs: one API for posts, one for DMs."""


@runtime_checkable
class Connector(
    IdentityReader,
    MentionsReader,
    SearchReader,
    OwnPostsReader,
    DMReader,
    FollowersReader,
    PostSender,
    DMSender,
    ReplyModerator,
    CursorOrder,
    Closeable,
    Protocol,
):
    """One account's client for a platform, as the registry returns it. A platform without one of
    these capabilities raises PlatformRejected from that method."""


ConnectorFactory = Callable[..., Connector]


# ---- a platform's rules (need no token) ----------------------------------------------------------


@runtime_checkable
class DMLinks(Protocol):
    def dm_deep_link(self, recipient_id: str) -> str:
        """A link that opens a new DM to `recipient_id` (the brand account, for a customer to click)."""
        ...

    def dm_thread_id(self, a: str, b: str) -> str:
        """The platform's id of the one-to-one DM thread between users `a` and `b`."""
        ...


@runtime_checkable
class WebLinks(Protocol):
    """Links to the platform's own pages, for people ("View on X") and for what a person does there."""

    def post_url(self, post_id: str) -> str:
        """The public page of a post."""
        ...

    def profile_url(self, username: str) -> str:
        """The public page of a profile."""
        ...

    def reply_intent_link(self, post_id: str, text: str) -> str:
        """Opens the platform's composer as a reply to `post_id`, with `text` filled in."""
        ...

    def dm_compose_link(self, recipient_id: str, text: str) -> str:
        """Opens the platform's DM composer to `recipient_id`, with `text` filled in."""
        ...


@runtime_checkable
class Policy(Protocol):
    """The platform's rules for apps: what an action may do through the API, what needs a person on
    the platform itself, and what is forbidden (domain/policy.py). Pure: the caller gathers the facts."""

    def decide(self, action: Action, facts: Facts) -> Decision: ...


@runtime_checkable
class Pricing(Protocol):
    def call_cost(self, endpoint: str, items: int, *, has_url: bool = False, reply: bool = False) -> float:
        """USD for one call to `endpoint` that returned (or created) `items` items, none deduplicated
        (writes, and reads whose resources the connector did not name)."""
        ...

    def resource_cost(self, endpoint: str, resource: str) -> float:
        """USD for one resource ("post:123") that a read of `endpoint` returned or a delivered event
        (endpoint "event_*") carried, the first time the platform bills it that UTC day."""
        ...

    def search_item_cost(self) -> float:
        """USD to read one post that a listening query matched."""
        ...


@runtime_checkable
class QueryRules(Protocol):
    max_query_length: int

    def normalise_query(self, query: str, *, include_reposts: bool = False) -> str:
        """The listening query as stored and sent; InvalidQuery says what is wrong."""
        ...

    def without_mentions_of(self, query: str, username: str) -> str:
        """`query` narrowed to posts that do not mention `username`, for an account whose own mentions
        are read the cheaper way (owned reads); `query` itself when it cannot be narrowed."""
        ...


@runtime_checkable
class HandleRules(Protocol):
    def strip_leading_mentions(self, text: str) -> str:
        """The text without the @handles the platform puts in front of a reply."""
        ...


@runtime_checkable
class PacingRules(Protocol):
    def pacing(self, endpoint: str) -> EndpointPacing: ...


@runtime_checkable
class ArchiveParser(Protocol):
    def iter_archive_items(
        self, obj: Any, *, org_user_id: str | None = None, origin: str = "import"
    ) -> Iterator[InboundItem | DeadLetter]:
        """Everything in one decoded line (or document) of an exported archive of this platform."""
        ...


@runtime_checkable
class TokenRefresher(Protocol):
    def refresh_access_token(
        self, base_url: str, refresh_token: str, *, client_id: str | None, timeout_s: float = 10.0
    ) -> TokenSet:
        """A new access token; AuthError when the refresh token is refused (reconnect the account),
        TransientError when the platform cannot be reached."""
        ...


@runtime_checkable
class PlatformProfile(
    DMLinks,
    WebLinks,
    Policy,
    Pricing,
    QueryRules,
    CursorOrder,
    HandleRules,
    PacingRules,
    ArchiveParser,
    TokenRefresher,
    Protocol,
):
    """A platform's rules: everything about it that needs no account or token."""

    name: str  # the registry key, e.g. "x"
    display_name: str  # for people, e.g. "X"


# ---- real-time events (services/realtime/, jobs/stream.py) -----------------------------------------


@dataclass(frozen=True, slots=True)
class ActivitySubscription:
    """One of the app's real-time subscriptions, as the platform lists it."""

    subscription_id: str
    event_type: str
    user_id: str | None
    direction: str | None
    webhook_id: str | None


@runtime_checkable
class ActivitySubscriber(Protocol):
    """A connector that can subscribe its account to the platform's real-time events (X: the Activity
    API's `/2/activity/subscriptions`, with the account's user token)."""

    def list_activity_subscriptions(self) -> list[ActivitySubscription]: ...

    def create_activity_subscription(
        self, event_type: str, user_id: str, *, direction: str | None = None, webhook_id: str | None = None
    ) -> ActivitySubscription: ...


@dataclass(frozen=True, slots=True)
class WebhookRegistration:
    """The app's webhook as the platform holds it: `valid` once it answered the CRC challenge."""

    webhook_id: str
    url: str
    valid: bool


@runtime_checkable
class WebhookRegistrar(Protocol):
    """A platform whose real-time events can be delivered to a webhook of this install (X: the V2
    Webhooks API with the app's bearer token)."""

    def ensure_webhook(self, base_url: str, bearer_token: str, url: str) -> tuple[WebhookRegistration, bool]:
        """The webhook for `url`, registered (True) or found (False); PlatformRejected with the
        platform's words when it refuses the URL or the CRC answer."""
        ...

    def move_subscription(
        self, base_url: str, bearer_token: str, subscription_id: str, webhook_id: str | None
    ) -> None:
        """Point an existing subscription at a webhook (None: back at the stream), so switching
        delivery keeps it instead of making a second one (the platform refuses a duplicate)."""
        ...


@runtime_checkable
class ActivityStreamConnection(Protocol):
    def lines(self) -> Iterator[str]:
        """Each delivered line; "" for a keep-alive. Ends when the server closes the connection;
        TransientError when it drops."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class RealtimeRules(Protocol):
    """A platform's real-time delivery: the subscriptions an account needs, the app's persistent
    stream, webhook CRC and signatures, and the parsing of one delivered event."""

    name: str
    subscriptions: tuple[tuple[str, str | None], ...]  # (event type, direction filter)
    billed_events: Mapping[str, str]  # event type -> the logical endpoint its delivery is billed as

    def billed_resource(self, event: ActivityEvent) -> str | None:
        """The resource ("post:123") a delivered billed event is charged for (once per UTC day, like
        a read of it); None when the event names none."""
        ...

    def open_stream(
        self,
        base_url: str,
        bearer_token: str,
        *,
        backfill_minutes: int,
        connect_timeout_s: float,
        stall_timeout_s: float,
    ) -> ActivityStreamConnection:
        """Connected, or AuthError / RateLimited / PlatformRejected / TransientError."""
        ...

    def parse_line(self, line: str | bytes) -> ActivityEvent | None:
        """None for a keep-alive; a malformed line is an event carrying a dead letter."""
        ...

    def crc_response(self, secret: str, crc_token: str) -> dict[str, str]: ...

    def signature_valid(self, secret: str, body: bytes, headers: Mapping[str, str]) -> bool: ...


@runtime_checkable
class ChatEventSink(Protocol):
    """Receives the encrypted-chat events (X: `chat.received`, `chat.sent`, `chat.conversation_join`)
    as delivered; the X Chat connector implements it (keys, decryption, storage). Raising stores the
    event as a dead letter with the exception's message as the reason."""

    def handle_chat_event(self, account_id: int, envelope: ChatEnvelope) -> None: ...
