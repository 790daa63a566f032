"""The emulator's in-memory world: users, posts, DM events, indexes, and the org account it acts for.

Everything is guarded by one lock; list lookups use id-ordered lists and bisect, so pages over tens of
thousands of items stay fast.
"""

from __future__ import annotations

import secrets
import threading
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from flockdesk.emulator import entities as ent
from flockdesk.emulator import events
from flockdesk.emulator.activity import ActivityLog
from flockdesk.emulator.billing import Ledger
from flockdesk.emulator.chat import ChatWorld
from flockdesk.emulator.faults import FaultInjector
from flockdesk.emulator.ids import IdGenerator, created_at
from flockdesk.emulator.model import DmEvent, Post, User, dm_conversation_id
from flockdesk.emulator.oauth import OAuthStore
from flockdesk.emulator.ratelimit import RateLimiter
from flockdesk.emulator.scenario import load_scenario

REQUEST_LOG_MAX = 200_000


@dataclass
class EmulatorConfig:
    scenario: str = "airline"
    seed: int = 0
    speedup: float = 1.0
    mentions_window: int = 800
    reply_restriction: bool = True
    timeout_s: float = 2.0
    token: str | None = None
    app_bearer: str | None = None
    oauth_auto_approve: bool = True
    token_ttl_s: int = 7200
    search_days: int = 7
    reject_duplicates: bool = False
    # X's 2026 rules for self-serve apps (reply_restriction above is the summoned-reply rule): no quote
    # posts through the API; a DM only to someone who DMed the org first. The DM rule is off by default
    # until Flockdesk's own send path honours it (tests/jobs DM customers who only posted)
    dm_restriction: bool = False
    quote_restriction: bool = True
    # X Activity API
    subscription_limit: int = 1500
    stream_connections: int = 2
    stream_keepalive_s: float = 20.0
    # the emulated app's consumer secret: signs webhook deliveries (legacy header) and CRC answers
    consumer_secret: str = "flockdesk-emulator-consumer-secret"  # noqa: S105 - a published test value
    webhook_retries: int = 3
    webhook_retry_s: float = 0.2
    # strict mode: validate every request against OpenAPI `strict_spec` ("2.159" | "2.167"), read from
    # `spec_dir`/openapi-<version>.json (the package ships no spec)
    strict_spec: str | None = None
    spec_dir: str | None = None


@dataclass
class TrafficCursor:
    """Where generated traffic left off, so that the next burst continues the same conversations."""

    threads: list[int] = field(default_factory=list)  # roots of customers' public threads
    public: list[int] = field(default_factory=list)  # customers' public posts, for quotes and reposts
    dm_users: list[str] = field(default_factory=list)  # customers who have a DM thread with the org
    org_threads: list[int] = field(default_factory=list)  # conversations the org replied in
    outreach_pending: list[str] = field(default_factory=list)  # users the org DMed, not answered yet
    chat_users: list[str] = field(default_factory=list)  # customers who have an X Chat with the org
    chat_replied: list[str] = field(default_factory=list)  # X Chat conversations the org wrote in last


@dataclass
class SentRecord:
    id: str
    kind: str  # "post" | "dm" | "chat"
    text: str
    created_at: str
    in_reply_to_tweet_id: str | None = None
    recipient_id: str | None = None
    dm_conversation_id: str | None = None
    direct_message_deep_link: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


@dataclass
class EmulatorState:
    config: EmulatorConfig = field(default_factory=EmulatorConfig)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        self.token = self.config.token or "fd-emu-user-" + secrets.token_urlsafe(18)
        self.app_bearer = self.config.app_bearer or "fd-emu-app-" + secrets.token_urlsafe(18)
        self.faults = FaultInjector()
        self.faults.configure(0.0, None, self.config.seed)
        self.limiter = RateLimiter(self.config.speedup)
        self.oauth = OAuthStore(self)
        self.closing = threading.Event()  # set while a server shuts down: stalled responses end early
        self.billing = Ledger()
        self.user_token_revoked = False  # POST /_emulator/revoke: the org revoked the app's access
        self.deliverer: Any = None  # webhooks.Deliverer, started with the first webhook
        self.stream_generation = 0  # POST /_emulator/streams/drop bumps it: open streams end
        self._clear()

        self.set_org(load_scenario(self.config.scenario).org)

    def _clear(self) -> None:
        self.ids = IdGenerator()
        self.users: dict[str, User] = {}
        self.by_username: dict[str, str] = {}
        self.posts: dict[int, Post] = {}
        self.post_ids: list[int] = []
        self.conv_posts: dict[int, list[int]] = {}
        self.org_texts: set[str] = set()  # for the optional duplicate-content check
        self.mentions: dict[str, list[int]] = {}
        self.by_author: dict[str, list[int]] = {}  # user id -> their post ids, ascending
        self.dms: dict[int, DmEvent] = {}
        self.dm_ids: list[int] = []
        self.dm_by_conv: dict[str, list[int]] = {}
        self.followers: list[str] = []  # user ids, oldest first
        self.dm_openers: set[str] = set()  # users who have DMed the org (the app may DM them back)
        self.sent: list[SentRecord] = []
        self.hidden: set[int] = set()  # replies the org hid in its own conversations
        self.traffic_cursor = TrafficCursor()
        # every X API request, oldest first, for tests that count polls (GET /_emulator/requests)
        self.requests: deque[dict[str, Any]] = deque(maxlen=REQUEST_LOG_MAX)
        # X Activity API events (emulator/activity.py): producers emit, the stream and webhooks deliver
        self.activity = ActivityLog()
        self.subscriptions: dict[str, Any] = {}  # xaa.Subscription by id
        self.webhooks: dict[str, Any] = {}  # webhooks.Webhook by id
        self.stream_open = 0  # persistent stream connections now open
        self.stream_connects = 0  # persistent stream connections accepted since the last reset
        self.stream_events = 0  # envelopes written to them (backfill repeats included)
        self.billing.clear()
        # X Chat: public keys, encrypted conversations, and the customers' chatxdk identities (chat.py)
        self.chat = ChatWorld()
        self.scenario_name = self.config.scenario

    # -- org and users -------------------------------------------------------------------------
    def set_org(self, org: User) -> None:
        with self.lock:
            self.org = org
            self.add_user(org)

    def reset(self, scenario: str | None = None) -> None:
        with self.lock:
            if scenario:
                self.config.scenario = scenario
            self._clear()
            self.user_token_revoked = False
            self.limiter.reset_all()
            self.set_org(load_scenario(self.config.scenario).org)

    def add_user(self, user: User) -> User:
        with self.lock:
            existing = self.users.get(user.id)
            if existing is not None:
                return existing
            self.users[user.id] = user
            self.by_username[user.username.lower()] = user.id
            return user

    def user_by_username(self, username: str) -> User | None:
        uid = self.by_username.get(username.lower().lstrip("@"))
        return self.users.get(uid) if uid else None

    def _user_id_for(self, username: str) -> str | None:
        return self.by_username.get(username.lower())

    # -- posts ---------------------------------------------------------------------------------
    def add_post(
        self,
        author_id: str,
        text: str,
        kind: str,
        in_reply_to: int | None = None,
        retweet_of: int | None = None,
        quote_of: int | None = None,
        sent_by_client: bool = False,
        deep_link: str | None = None,
    ) -> Post:
        with self.lock:
            author = self.users[author_id]
            pid = self.ids.next()
            parent = self.posts.get(in_reply_to) if in_reply_to is not None else None
            conv = parent.conversation_id if parent is not None else pid
            entities = ent.extract(text, self._user_id_for)
            folded = ent.fold(text)
            mentions = frozenset(m["username"].lower() for m in entities.get("mentions", []))
            parent_author = self.users.get(parent.author_id) if parent else None
            post = Post(
                id=pid,
                text=text,
                author_id=author_id,
                kind=kind,
                conversation_id=conv,
                created_at=created_at(pid),
                entities=entities,
                in_reply_to_tweet_id=parent.id if parent else None,
                in_reply_to_user_id=parent.author_id if parent else None,
                retweeted_id=retweet_of,
                quoted_id=quote_of,
                from_org=author_id == self.org.id,
                sent_by_client=sent_by_client,
                direct_message_deep_link=deep_link,
                folded=folded,
                words=ent.words(folded),
                hashtags=frozenset(ent.fold(h["tag"]) for h in entities.get("hashtags", [])),
                mentions=mentions,
                author_username=author.username.lower(),
                author_verified=author.verified,
                in_reply_to_username=parent_author.username.lower() if parent_author else "",
            )
            self.posts[pid] = post
            self.post_ids.append(pid)
            self.conv_posts.setdefault(conv, []).append(pid)
            self.by_author.setdefault(author_id, []).append(pid)
            if post.from_org:
                self.org_texts.add(text)
            author.tweet_count += 1
            if retweet_of is None:  # retweets stay out of the mentions timeline
                for username in mentions:
                    uid = self.by_username.get(username)
                    if uid is not None and uid != author_id:
                        self.mentions.setdefault(uid, []).append(pid)
            events.emit_post(self, post)
            return post

    # -- DMs -----------------------------------------------------------------------------------
    def add_dm(
        self,
        sender_id: str,
        recipient_id: str,
        text: str,
        kind: str,
        sent_by_client: bool = False,
        opt_out: bool = False,
    ) -> DmEvent:
        with self.lock:
            eid = self.ids.next()
            conv = dm_conversation_id(sender_id, recipient_id)
            event = DmEvent(
                id=eid,
                text=text,
                sender_id=sender_id,
                recipient_id=recipient_id,
                dm_conversation_id=conv,
                created_at=created_at(eid),
                kind=kind,
                entities=ent.extract(text, self._user_id_for),
                from_org=sender_id == self.org.id,
                sent_by_client=sent_by_client,
                opt_out=opt_out,
            )
            self.dms[eid] = event
            self.dm_ids.append(eid)
            self.dm_by_conv.setdefault(conv, []).append(eid)
            if recipient_id == self.org.id:
                self.dm_openers.add(sender_id)
            events.emit_dm(self, event)
            return event

    def follow(self, user_id: str) -> bool:
        with self.lock:
            if user_id in self.followers or user_id == self.org.id:
                return False
            self.followers.append(user_id)
            self.org.followers_count += 1
            events.emit_follow(self, self.users[user_id], follows=True)
            return True

    def unfollow(self, user_id: str) -> bool:
        with self.lock:
            if user_id not in self.followers:
                return False
            self.followers.remove(user_id)
            self.org.followers_count -= 1
            events.emit_follow(self, self.users[user_id], follows=False)
            return True

    def log_request(self, at: float, endpoint: str, params: dict[str, str], status: int) -> None:
        """One X API request: when it arrived (Unix time), what it asked and how it was answered."""
        with self.lock:
            self.requests.append({"at": at, "endpoint": endpoint, "params": params, "status": status})

    # -- stats ---------------------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "posts": len(self.posts),
                "dms": len(self.dms),
                "received_posts": sum(1 for s in self.sent if s.kind == "post"),
                "received_dms": sum(1 for s in self.sent if s.kind == "dm"),
                "users": len(self.users),
                "followers": len(self.followers),
                "chats": len(self.chat.conversations),
                "chat_messages": sum(1 for e in self.chat.events.values() if e.kind == "message"),
                "received_chats": sum(1 for s in self.sent if s.kind == "chat"),
                "streams_open": self.stream_open,
                "stream_connects": self.stream_connects,
                "stream_events": self.stream_events,
            }


def scan_desc(
    ids: list[int],
    upper_exclusive: int | None,
    lower_exclusive: int | None,
    keep: Callable[[int], bool],
    limit: int,
) -> Iterator[int]:
    """Yield up to `limit` ids from an ascending list, newest first, within (lower, upper), that `keep`."""
    hi = len(ids) if upper_exclusive is None else bisect_left(ids, upper_exclusive)
    lo = 0 if lower_exclusive is None else bisect_right(ids, lower_exclusive)
    found = 0
    for i in range(hi - 1, lo - 1, -1):
        if keep(ids[i]):
            yield ids[i]
            found += 1
            if found >= limit:
                return
