"""What X would charge under its 2026 pay-per-use prices: the emulator's ledger, every rule in one place.

Prices (x-2026.md §4, X's pricing since 2026-02-06 and 2026-04-20):

| kind | USD | what |
|---|---|---|
| `post_read` | 0.005 | a post returned by search (or any endpoint that is not an owned read) |
| `user_read` | 0.010 | a user returned by `users/me`, someone else's followers, or in `includes` of such a read |
| `dm_event_read` | 0.010 | a DM event returned by a `dm_events` endpoint |
| `owned_read` | 0.001 | anything returned by the account's own mentions, followers or posts timelines |
| `post_create` | 0.015 | a post created through the API |
| `post_create_url` | 0.200 | a created post whose text carries a URL (`http://`, `https://` or `www.`) |
| `summoned_reply` | 0.010 | a reply to a post whose author summoned the account (mentioned it or quoted it) |
| `dm_create` | 0.015 | a DM sent through the API |
| `event_post` | 0.005 | a delivered post event (`post.*`), priced as a post read |
| `event_follow` | 0.010 | a delivered `follow.follow` / `follow.unfollow` |
| `event_dm_received` | 0.010 | a delivered `dm.received` |
| `event_chat_received` | 0.010 | a delivered `chat.received` |

Sent and read events (`dm.sent`, `chat.sent`, `dm.read`, ...) and `oauth.revoke` are free.

Rules:
- Every resource a response returns is billed, in `data` and in `includes`, at the class of the endpoint
  that returned it (an owned timeline bills its included users as owned reads too).
- A resource (a post, user or DM event, whether read or delivered as an event) is billed at most once per
  UTC day: the first charge of the day stands, later reads of it that day are free.
- Writes are never deduplicated; a failed request (4xx, 5xx, injected fault without a body) is free; a
  response that left X and was lost or cut on the way (the `malformed` and `lost_response` faults) is billed.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

MICROS = 1_000_000
PRICES_MICRO_USD: dict[str, int] = {
    "post_read": 5_000,
    "user_read": 10_000,
    "dm_event_read": 10_000,
    "owned_read": 1_000,
    "post_create": 15_000,
    "post_create_url": 200_000,
    "summoned_reply": 10_000,
    "dm_create": 15_000,
    "event_post": 5_000,
    "event_follow": 10_000,
    "event_dm_received": 10_000,
    "event_chat_received": 10_000,
}
# endpoint keys (api.PARAMS) whose reads of the account's own data are owned reads
OWNED_ENDPOINTS = frozenset({"mentions", "user_tweets", "followers"})
READ_ENDPOINTS = frozenset({"mentions", "user_tweets", "followers", "search", "dm_events", "users_me"})
URL_RE = re.compile(r"(?:https?://|www\.)\S", re.IGNORECASE)  # as the client marks a post with a URL


@dataclass(frozen=True, slots=True)
class Charge:
    at: float
    kind: str
    resource: str  # "post:123", "user:9", "dm:77", "follow:5" (an event sequence number), "write:123"
    micro_usd: int


@dataclass
class Ledger:
    items: list[Charge] = field(default_factory=list)
    _seen: set[tuple[str, str]] = field(default_factory=set)  # (UTC day, resource)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    clock: Callable[[], float] = time.time  # Unix time; tests move it to cross a UTC day

    def charge(self, kind: str, resource: str, *, at: float | None = None, dedupe: bool = True) -> bool:
        """Bill `resource` as `kind`; False when it was already billed today (and `dedupe` is on)."""
        at = self.clock() if at is None else at
        day = datetime.fromtimestamp(at, tz=UTC).strftime("%Y-%m-%d")
        with self._lock:
            if dedupe:
                key = (day, resource)
                if key in self._seen:
                    return False
                self._seen.add(key)
            self.items.append(Charge(at, kind, resource, PRICES_MICRO_USD[kind]))
        return True

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            by_kind: dict[str, dict[str, Any]] = {}
            total = 0
            for c in self.items:
                entry = by_kind.setdefault(c.kind, {"count": 0, "usd": 0})
                entry["count"] += 1
                entry["usd"] += c.micro_usd
                total += c.micro_usd
            for entry in by_kind.values():
                entry["usd"] = entry["usd"] / MICROS
            return {"total_usd": total / MICROS, "by_kind": by_kind, "items": len(self.items)}

    def clear(self) -> None:
        with self._lock:
            self.items.clear()
            self._seen.clear()


def charge_read(ledger: Ledger, endpoint: str, owned: bool, body: dict[str, Any]) -> None:
    """Bill every resource a successful read returned (`owned`: the path's user is the account)."""
    if endpoint not in READ_ENDPOINTS:
        return
    is_owned = owned and endpoint in OWNED_ENDPOINTS
    now = ledger.clock()
    data = body.get("data")
    items = data if isinstance(data, list) else [data] if isinstance(data, dict) else []
    if endpoint == "dm_events":
        primary, primary_kind = "dm", "dm_event_read"
    elif endpoint in ("followers", "users_me"):
        primary, primary_kind = "user", "user_read"
    else:
        primary, primary_kind = "post", "post_read"
    for item in items:
        _bill(ledger, primary, primary_kind, is_owned, item, now)
    includes = body.get("includes") or {}
    for key, rtype, kind in (
        ("users", "user", "user_read"),
        ("tweets", "post", "post_read"),
        ("posts", "post", "post_read"),
    ):
        for item in includes.get(key) or []:
            _bill(ledger, rtype, kind, is_owned, item, now)


def _bill(ledger: Ledger, rtype: str, kind: str, owned: bool, item: Any, now: float) -> None:
    if isinstance(item, dict) and "id" in item:
        ledger.charge("owned_read" if owned else kind, f"{rtype}:{item['id']}", at=now)


def charge_post_create(ledger: Ledger, post_id: int, text: str, summoned_reply: bool) -> None:
    """A post created through the API: $0.20 with a URL, $0.010 for a summoned reply, else $0.015."""
    if URL_RE.search(text):
        kind = "post_create_url"
    elif summoned_reply:
        kind = "summoned_reply"
    else:
        kind = "post_create"
    ledger.charge(kind, f"write:{post_id}", dedupe=False)


def charge_dm_create(ledger: Ledger, event_id: int) -> None:
    ledger.charge("dm_create", f"write:{event_id}", dedupe=False)


def charge_event(ledger: Ledger, seq: int, event_type: str, payload: dict[str, Any]) -> None:
    """A delivered activity event (stream or webhook), billed as delivered."""
    if event_type.startswith("post."):
        ledger.charge("event_post", f"post:{payload.get('id')}")
    elif event_type in ("follow.follow", "follow.unfollow"):
        ledger.charge("event_follow", f"follow:{seq}")
    elif event_type == "dm.received":
        events = payload.get("direct_message_events") or [{}]
        ledger.charge("event_dm_received", f"dm:{events[0].get('id', seq)}")
    elif event_type == "chat.received":
        ledger.charge("event_chat_received", f"chat:{payload.get('id', seq)}")
