"""A second platform for tests, shaped like Bluesky: ids are `at://` URIs whose last segment (a
time-sortable key) orders them, handles are domain names, and nothing about it is numeric.

`registered()` puts it in the connector registry for the duration of a test.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flockdesk.connectors import registry
from flockdesk.connectors.base import (
    AuthError,
    EndpointPacing,
    FetchedPage,
    FetchedUsers,
    InvalidQuery,
    PlatformRejected,
    TokenSet,
)
from flockdesk.domain.policy import ALLOWED, Action, Decision, Facts
from flockdesk.domain.types import Author, DeadLetter, InboundItem, Page, SendResult

NAME = "fakenet"
BRAND = "did:plc:brandbrandbrandbrandbran"
T0 = datetime(2026, 11, 1, tzinfo=UTC)
_HANDLES = re.compile(r"^(?:\s*@[\w.-]+)+\s*")


def post_uri(author: str, key: str) -> str:
    return f"at://{author}/app.bsky.feed.post/{key}"


def key_of(uri: str) -> str:
    return uri.rsplit("/", 1)[-1]


def tid(n: int) -> str:
    """A time-sortable key: base32-like letters, no digits-only id anywhere."""
    alphabet = "abcdefghijklmnopqrstuvwxyz"
    out = ""
    for _ in range(13):
        n, r = divmod(n, 26)
        out = alphabet[r] + out
    return "3k" + out


def compare(a: str, b: str) -> int:
    ka, kb = key_of(a), key_of(b)
    return (ka > kb) - (ka < kb)


class FakenetProfile:
    name = NAME
    display_name = "Fakenet"
    max_query_length = 300

    def dm_deep_link(self, recipient_id: str) -> str:
        return f"https://fakenet.example/messages/new?to={recipient_id}"

    def dm_thread_id(self, a: str, b: str) -> str:
        first, second = sorted((a, b))
        return f"convo:{first}:{second}"

    def compare_ids(self, a: str, b: str) -> int:
        return compare(a, b)

    def post_url(self, post_id: str) -> str:
        return f"https://fakenet.example/post?uri={post_id}"

    def profile_url(self, username: str) -> str:
        return f"https://fakenet.example/profile/{username}"

    def reply_intent_link(self, post_id: str, text: str) -> str:
        return f"https://fakenet.example/compose?reply_to={post_id}"

    def dm_compose_link(self, recipient_id: str, text: str) -> str:
        return f"https://fakenet.example/messages/new?to={recipient_id}"

    def decide(self, action: Action, facts: Facts) -> Decision:
        """A network without app rules: everything an agent does goes through its API."""
        return ALLOWED

    def strip_leading_mentions(self, text: str) -> str:
        return _HANDLES.sub("", text)

    def call_cost(self, endpoint: str, items: int, *, has_url: bool = False, reply: bool = False) -> float:
        return 0.25 * items if endpoint == "search" else 0.0

    def resource_cost(self, endpoint: str, resource: str) -> float:
        return 0.25 if endpoint == "search" else 0.0

    def search_item_cost(self) -> float:
        return 0.25

    def pacing(self, endpoint: str) -> EndpointPacing:
        return EndpointPacing()

    def normalise_query(self, query: str, *, include_reposts: bool = False) -> str:
        text = " ".join(query.split()).lower()
        if not text:
            raise InvalidQuery("the query is empty: give a word to listen for")
        return text

    def without_mentions_of(self, query: str, username: str) -> str:
        """Fakenet bills mentions like search hits: nothing to gain by narrowing the query."""
        return query

    def iter_archive_items(
        self, obj: Any, *, org_user_id: str | None = None, origin: str = "import"
    ) -> Iterator[InboundItem | DeadLetter]:
        yield DeadLetter(origin, "fakenet archives are not supported", str(obj))

    def refresh_access_token(
        self, base_url: str, refresh_token: str, *, client_id: str | None, timeout_s: float = 10.0
    ) -> TokenSet:
        raise AuthError("fakenet tokens do not refresh")


PROFILE = FakenetProfile()


def mention(n: int, *, author: str = "did:plc:janejanejanejanejanejane") -> InboundItem:
    uri = post_uri(author, tid(n))
    return InboundItem(
        platform=NAME,
        external_id=uri,
        kind="mention",
        thread_kind="public",
        thread_id=uri,
        channel="mention",
        author_id=author,
        text=f"@brand.fakenet.example help please {n}",
        created_at=T0 + timedelta(seconds=n),
        author=Author(NAME, author, "jane.fakenet.example", "Jane", host="fakenet.example"),
    )


def dm(n: int, *, author: str = "did:plc:janejanejanejanejanejane") -> InboundItem:
    return InboundItem(
        platform=NAME,
        external_id=f"msg-{tid(n)}",
        kind="dm",
        thread_kind="dm",
        thread_id=PROFILE.dm_thread_id(author, BRAND),
        channel="dm",
        author_id=author,
        text=f"private question {n}",
        created_at=T0 + timedelta(seconds=n),
    )


@dataclass
class FakenetConnector:
    """Pages newest first, like the real networks; `since_id` and page tokens are ids (not numbers)."""

    mentions: list[InboundItem] = field(default_factory=list)
    dms: list[InboundItem] = field(default_factory=list)
    page_size: int = 2
    calls: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    sent: list[tuple[str, str, str | None]] = field(default_factory=list)

    def compare_ids(self, a: str, b: str) -> int:
        return compare(a, b)

    def _page(self, items: list[InboundItem], since_id: str | None, token: str | None) -> FetchedPage:
        pool = sorted(items, key=lambda i: key_of(i.external_id), reverse=True)
        pool = [i for i in pool if since_id is None or compare(i.external_id, since_id) > 0]
        if token is not None:
            pool = [i for i in pool if compare(i.external_id, token) < 0]
        chunk = pool[: self.page_size]
        more = len(pool) > self.page_size
        return FetchedPage(
            Page(
                items=chunk,
                next_token=chunk[-1].external_id if more else None,
                newest_id=chunk[0].external_id if chunk else None,
            )
        )

    def get_me(self) -> Author:
        return Author(NAME, BRAND, "brand.fakenet.example", "Brand", host="fakenet.example")

    def fetch_mentions(
        self, user_id: str, *, since_id: str | None = None, pagination_token: str | None = None
    ) -> FetchedPage:
        self.calls.append(("mentions", since_id, pagination_token))
        return self._page(self.mentions, since_id, pagination_token)

    def fetch_search(
        self, query: str, *, since_id: str | None = None, next_token: str | None = None
    ) -> FetchedPage:
        self.calls.append(("search", since_id, next_token))
        return FetchedPage(Page())

    def fetch_own_posts(
        self, user_id: str, *, since: datetime | None = None, pagination_token: str | None = None
    ) -> FetchedPage:
        self.calls.append(("own_posts", None, pagination_token))
        return FetchedPage(Page())

    def fetch_dm_events(self, *, pagination_token: str | None = None) -> FetchedPage:
        self.calls.append(("dms", None, pagination_token))
        return self._page(self.dms, None, pagination_token)

    def fetch_followers(self, user_id: str, *, pagination_token: str | None = None) -> FetchedUsers:
        return FetchedUsers()

    def send_post(self, text: str, *, in_reply_to: str | None = None) -> SendResult:
        self.sent.append(("post", text, in_reply_to))
        return SendResult(post_uri(BRAND, tid(10_000 + len(self.sent))))

    def send_dm(self, recipient_id: str, text: str) -> SendResult:
        self.sent.append(("dm", text, recipient_id))
        return SendResult(f"msg-{tid(20_000 + len(self.sent))}", PROFILE.dm_thread_id(BRAND, recipient_id))

    def hide_reply(self, post_id: str, *, hidden: bool = True) -> bool:
        raise PlatformRejected(400, "fakenet cannot hide replies")

    def close(self) -> None:
        pass


@contextmanager
def registered(connector: FakenetConnector | None = None) -> Iterator[FakenetConnector]:
    """Fakenet in the registry (its factory hands out `connector`) until the block ends."""
    conn = connector or FakenetConnector()
    registry.register(NAME, PROFILE, lambda *args, **kwargs: conn)
    try:
        yield conn
    finally:
        registry.unregister(NAME)
