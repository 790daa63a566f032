"""The X connector: the official `xdk` SDK pointed at a configurable base URL.

xdk builds each request and validates the body into its Pydantic models, but it neither exposes the
response headers nor the raw page, and it sets no timeout. So each client mounts a transport adapter
on xdk's `requests` session (default timeout from settings) and a response hook that keeps the last
response: the `x-rate-limit-*` headers are read from it, and its raw JSON goes to the parser in
`connectors/x/parse.py`, so a body xdk's models reject still ends as items plus dead letters rather
than as a crash.

Reads retry 5xx and timeouts a bounded number of times with exponential backoff; writes are never
retried here (at most once: the outbox decides what an ambiguous failure means).

The four polled reads (mentions, search, own posts, DM events) go through the same session but not
through xdk's methods: xdk is generated from one OpenAPI spec and spells every parameter its way
(`post.fields`), while an API host may speak 2.159 (`tweet.fields`) or 2.167, or refuse a parameter
its spec lists. Those reads use the spellings of the account's `api_version` (connectors/x/specs.py)
and, on a 400 that names a parameter, respell or drop it and try again (`DriftAware`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote

import orjson
import requests
import xdk
from requests.adapters import HTTPAdapter
from xdk.direct_messages.models import CreateByParticipantIdRequest
from xdk.posts.models import CreateRequest, HideReplyRequest
from xdk.schemas import CreatePostsReply

from flockdesk.connectors.backoff import backoff_s
from flockdesk.connectors.base import (
    ActivitySubscription,
    AuthError,
    CallObserver,
    CallRecord,
    ChatConversation,
    ChatKeys,
    ChatKeysLoader,
    ConnectorError,
    Degradation,
    FetchedChatConversations,
    FetchedPage,
    FetchedUsers,
    MalformedResponse,
    PlatformRejected,
    RateLimited,
    RateLimitState,
    TransientError,
)
from flockdesk.connectors.x import activity, links, parse, pricing, specs
from flockdesk.connectors.x.limits import pacing, read_headers
from flockdesk.connectors.x.xchat import XChat
from flockdesk.domain.types import Author, Page, SendResult

log = logging.getLogger(__name__)
T = TypeVar("T")

USER_FIELDS = list(specs.USER_FIELDS)
PAGE_SIZE = 100
URL_MARKERS = ("http://", "https://", "www.")


class _TimeoutAdapter(HTTPAdapter):
    """Gives every request a timeout (xdk passes none)."""

    def __init__(self, timeout_s: float) -> None:
        super().__init__(max_retries=0)
        self.timeout_s = timeout_s

    def send(self, request: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout_s
        return super().send(request, **kwargs)


class _Capture(threading.local):
    """The last response of the calling thread. One client serves the worker's polls and, at the same
    time, the real-time stream's X Chat events (their senders' public keys): a response shared between
    threads handed one call another's body (a search page read as a public key list, its posts lost)."""

    def __init__(self) -> None:
        self.response: requests.Response | None = None

    def hook(self, response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        self.response = response  # requests runs response hooks in the thread that made the call
        return response


def _problem_detail(resp: requests.Response) -> str:
    """The platform's reason from a problem+json (or v1.1-style errors) body, else the status line."""
    try:
        body = orjson.loads(resp.content)
    except orjson.JSONDecodeError:
        body = None
    if isinstance(body, dict):
        for key in ("detail", "title"):
            if isinstance(body.get(key), str) and body[key]:
                return f"{resp.status_code} {body[key]}"
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            msg = errors[0].get("message") or errors[0].get("detail")
            if isinstance(msg, str):
                return f"{resp.status_code} {msg}"
    return f"{resp.status_code} {resp.reason or 'error'}"


def _json_or_none(resp: requests.Response) -> Any:
    try:
        return orjson.loads(resp.content)
    except orjson.JSONDecodeError:
        return None


def _not_sent(exc: BaseException) -> bool:
    """True when the request never reached the server (connect refused / connect timeout)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    return isinstance(exc, requests.ConnectionError) and "NewConnectionError" in repr(exc)


class XClient:
    """One account's view of the X API v2: a connectors.base.Connector (every capability)."""

    def __init__(
        self,
        base_url: str,
        access_token: str,
        *,
        org_user_id: str | None = None,
        timeout_s: float = 10.0,
        on_call: CallObserver | None = None,
        read_retries: int = 2,
        backoff_base_s: float = 0.2,
        backoff_cap_s: float = 4.0,
        sleep: Callable[[float], None] = time.sleep,
        chat_keys: ChatKeysLoader | None = None,
        api_version: str | None = None,
    ) -> None:
        """`chat_keys` loads the account's X Chat keys when a chat call needs them (None: no X Chat);
        `api_version` is the OpenAPI spec the host speaks (specs.SPECS; None: the current one)."""
        self.base_url = base_url.rstrip("/")
        self.api_version = specs.check_spec(api_version or specs.DEFAULT_SPEC)
        self._token = access_token
        self._degraded: dict[str, list[Degradation]] = {}
        self.org_user_id = org_user_id
        self._on_call = on_call
        self._read_retries = read_retries
        self._backoff = (backoff_base_s, backoff_cap_s)
        self._sleep = sleep
        self._sdk = xdk.Client(base_url=self.base_url, access_token=access_token)
        adapter = _TimeoutAdapter(timeout_s)
        self._sdk.session.mount("http://", adapter)
        self._sdk.session.mount("https://", adapter)
        self._capture = _Capture()
        self._sdk.session.hooks["response"].append(self._capture.hook)
        self._chat = XChat(self, chat_keys)

    def close(self) -> None:
        self._sdk.session.close()

    # ---- plumbing ---------------------------------------------------------------------------

    def _report(
        self,
        endpoint: str,
        status: int | None,
        items: int = 0,
        rate: RateLimitState | None = None,
        has_url: bool = False,
        resources: tuple[str, ...] = (),
        reply: bool = False,
    ) -> None:
        if self._on_call is not None:
            self._on_call(
                CallRecord(endpoint, status, items, rate, has_url, pacing(endpoint), resources, reply)
            )

    def compare_ids(self, a: str, b: str) -> int:
        return links.compare_ids(a, b)

    def _once(
        self, endpoint: str, call: Callable[[], Any], *, has_url: bool = False, reply: bool = False
    ) -> tuple[Any, RateLimitState | None]:
        """One HTTP call through xdk; returns the raw JSON body (our own parse) and the rate state."""
        self._capture.response = None
        try:
            call()
            error: BaseException | None = None
        except Exception as exc:  # noqa: BLE001 - classified below from the captured response
            error = exc
        resp = self._capture.response
        if resp is None:
            self._report(endpoint, None)
            if isinstance(error, requests.RequestException):
                raise TransientError(
                    f"{endpoint}: {type(error).__name__}", maybe_applied=not _not_sent(error)
                ) from error
            raise ConnectorError(f"{endpoint}: {error}") from error
        rate = read_headers(resp.headers)
        status = resp.status_code
        if status == 429:
            self._report(endpoint, status, rate=rate)
            raise RateLimited(endpoint, rate.reset_at if rate else None, _problem_detail(resp))
        if status in (401, 403):
            self._report(endpoint, status, rate=rate)
            raise AuthError(f"{endpoint}: {_problem_detail(resp)}")
        if 400 <= status < 500:
            self._report(endpoint, status, rate=rate)
            raise PlatformRejected(status, _problem_detail(resp), body=_json_or_none(resp))
        if status >= 500:
            self._report(endpoint, status, rate=rate)
            raise TransientError(f"{endpoint}: {_problem_detail(resp)}")
        try:
            body = orjson.loads(resp.content)
        except orjson.JSONDecodeError as exc:
            self._report(endpoint, status, rate=rate)
            raise _malformed(
                endpoint, f"response is not JSON: {exc}", resp.content.decode("utf-8", "replace")[:100_000]
            ) from exc
        reason = _envelope_problem(body)
        if reason:
            self._report(endpoint, status, rate=rate)
            raise _malformed(endpoint, reason, resp.content.decode("utf-8", "replace")[:100_000])
        data = body.get("data")
        self._report(
            endpoint,
            status,
            len(data) if isinstance(data, list) else int(data is not None),
            rate,
            has_url,
            pricing.read_resources(endpoint, body),
            reply,
        )
        return body, rate

    def _read(self, endpoint: str, call: Callable[[], Any]) -> tuple[Any, RateLimitState | None]:
        base, cap = self._backoff
        for attempt in range(self._read_retries + 1):
            try:
                return self._once(endpoint, call)
            except TransientError as exc:
                if attempt >= self._read_retries:
                    raise
                delay = backoff_s(attempt, base, cap)
                log.info("x %s: %s; retry %d in %.2fs", endpoint, exc.detail, attempt + 1, delay)
                self._sleep(delay)
        raise AssertionError("unreachable")

    # ---- reads ------------------------------------------------------------------------------

    def get_me(self) -> Author:
        body, _ = self._read("users_me", lambda: self._sdk.users.get_me(user_fields=USER_FIELDS))
        author = parse.parse_author(body.get("data"))
        if author is None or not author.username:
            raise _malformed("users_me", "users/me returned no user", _dump(body))
        return author

    # ---- the polled reads, spelled for the account's API version ----------------------------

    def use_degradations(self, endpoint: str, degradations: list[Degradation]) -> None:
        """What the API refused before for this source (stored by the caller), applied to the next reads."""
        self._degraded[endpoint] = list(degradations)

    def degradations(self, endpoint: str) -> list[Degradation]:
        return list(self._degraded.get(endpoint, []))

    def _spelled(self, endpoint: str, path: str, plain: dict[str, Any]) -> tuple[Any, RateLimitState | None]:
        """GET `path` with the spec's list parameters for `endpoint` plus `plain` ones; a 400 that names
        one of the list parameters is respelled or dropped (specs.degrade) and the read retried."""
        wanted = specs.base_params(self.api_version, endpoint)
        done = self._degraded.setdefault(endpoint, [])
        url = self.base_url + path
        headers = {"Authorization": f"Bearer {self._token}"}
        while True:
            query: dict[str, Any] = {k: v for k, v in plain.items() if v is not None}
            query.update({k: ",".join(v) for k, v in specs.apply(wanted, done).items()})

            def call(q: dict[str, Any] = query) -> Any:
                return self._sdk.session.get(url, params=q, headers=headers)

            try:
                body, rate = self._read(endpoint, call)
            except PlatformRejected as exc:
                if exc.status != 400 or exc.body is None:
                    raise
                named = specs.refused(exc.body)
                step = specs.degrade(wanted, done, *named) if named is not None else None
                if step is None:
                    raise
                done.append(step)
                log.info("x %s: the API refused %s; asking again without it", endpoint, step.describe())
                continue
            if isinstance(body.get("data"), dict):
                # Every read spelled here is a list; one object is some other endpoint's answer, and
                # taking it as an empty last page would end the sweep and skip the pages not yet read.
                raise _malformed(
                    endpoint, f"{path} answered a single object where a list belongs", _dump(body)
                )
            return body, rate

    def fetch_mentions(
        self, user_id: str, *, since_id: str | None = None, pagination_token: str | None = None
    ) -> FetchedPage:
        plain = {"max_results": PAGE_SIZE, "since_id": since_id, "pagination_token": pagination_token}
        body, rate = self._spelled("mentions", f"/2/users/{quote(user_id, safe='')}/mentions", plain)
        page = parse.parse_tweet_page(body, channel="mention", org_user_id=self.org_user_id)
        return FetchedPage(page, rate)

    def fetch_own_posts(
        self, user_id: str, *, since: datetime | None = None, pagination_token: str | None = None
    ) -> FetchedPage:
        """The account's own posts, newest first, created at or after `since` (an owned read)."""
        start = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if since is not None else None
        plain = {"max_results": PAGE_SIZE, "start_time": start, "pagination_token": pagination_token}
        body, rate = self._spelled("own_posts", f"/2/users/{quote(user_id, safe='')}/tweets", plain)
        return FetchedPage(parse.parse_own_posts_page(body, org_user_id=self.org_user_id), rate)

    def fetch_search(
        self, query: str, *, since_id: str | None = None, next_token: str | None = None
    ) -> FetchedPage:
        plain = {
            "query": query,
            "max_results": PAGE_SIZE,
            "since_id": since_id,
            "pagination_token": next_token,
        }
        body, rate = self._spelled("search", "/2/tweets/search/recent", plain)
        return FetchedPage(parse.parse_tweet_page(body, channel="search", org_user_id=self.org_user_id), rate)

    def fetch_dm_events(self, *, pagination_token: str | None = None) -> FetchedPage:
        plain = {"max_results": PAGE_SIZE, "pagination_token": pagination_token}
        body, rate = self._spelled("dm_events", "/2/dm_events", plain)
        return FetchedPage(parse.parse_dm_page(body, org_user_id=self.org_user_id), rate)

    def fetch_followers(self, user_id: str, *, pagination_token: str | None = None) -> FetchedUsers:
        def call() -> Any:
            return next(
                iter(
                    self._sdk.users.get_followers(
                        user_id, max_results=1000, pagination_token=pagination_token, user_fields=USER_FIELDS
                    )
                )
            )

        body, _ = self._read("followers", call)
        users = [a for a in (parse.parse_author(u) for u in body.get("data") or []) if a is not None]
        meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
        token = meta.get("next_token")
        return FetchedUsers(users, token if isinstance(token, str) and token else None)

    # ---- writes (called only by services/replies/outbox.py) -------------------------------------------

    def send_post(self, text: str, *, in_reply_to: str | None = None) -> SendResult:
        reply = CreatePostsReply(in_reply_to_tweet_id=in_reply_to) if in_reply_to else None
        request = CreateRequest(text=text, reply=reply)
        has_url = any(marker in text.lower() for marker in URL_MARKERS)
        body, _ = self._once(
            "post_create",
            lambda: self._sdk.posts.create(body=request),
            has_url=has_url,
            reply=in_reply_to is not None,
        )
        data = body.get("data") or {}
        if not isinstance(data, dict) or not data.get("id"):
            raise _malformed("post_create", "POST /2/tweets returned no id", _dump(body))
        return SendResult(external_id=str(data["id"]), thread_id=None)

    def send_dm(self, recipient_id: str, text: str) -> SendResult:
        request = CreateByParticipantIdRequest(text=text)
        body, _ = self._once(
            "dm_create",
            lambda: self._sdk.direct_messages.create_by_participant_id(recipient_id, body=request),
        )
        data = body.get("data") or {}
        if not isinstance(data, dict) or not data.get("dm_event_id"):
            raise _malformed("dm_create", "DM create returned no dm_event_id", _dump(body))
        conv = data.get("dm_conversation_id")
        return SendResult(external_id=str(data["dm_event_id"]), thread_id=str(conv) if conv else None)

    def hide_reply(self, post_id: str, *, hidden: bool = True) -> bool:
        """Hide (or unhide) a reply in a conversation the account started; returns the platform's state.

        Raises AuthError on 403 (not the conversation's owner, or the token lacks tweet.moderate.write),
        PlatformRejected on another 4xx, RateLimited on 429. Never retried: the outbox is not involved,
        but hiding twice is harmless, so a caller may retry a TransientError itself."""
        request = HideReplyRequest(hidden=hidden)
        body, _ = self._once("hide_reply", lambda: self._sdk.posts.hide_reply(post_id, body=request))
        data = body.get("data") or {}
        if not isinstance(data, dict) or not isinstance(data.get("hidden"), bool):
            raise _malformed("hide_reply", "PUT /2/tweets/:id/hidden returned no `hidden`", _dump(body))
        return bool(data["hidden"])

    # ---- X Chat (connectors/x/xchat.py) ---------------------------------------------------------

    def create_chat_keys(self) -> ChatKeys:
        return self._chat.create_keys()

    def registered_chat_key_version(self, blob: bytes) -> str | None:
        return self._chat.registered_version(blob)

    def fetch_chat_conversations(self, *, pagination_token: str | None = None) -> FetchedChatConversations:
        return self._chat.conversations(pagination_token)

    def fetch_chat_events(
        self,
        conversation: ChatConversation,
        *,
        since_id: str | None = None,
        authors: dict[str, Author] | None = None,
    ) -> FetchedPage:
        return self._chat.events(conversation, since_id, authors)

    def decrypt_chat_event(self, payload: dict[str, Any], *, event_type: str) -> Page:
        return self._chat.realtime(payload, event_type)

    def send_chat(
        self, recipient_id: str, text: str, *, quick_reply: dict[str, Any] | None = None
    ) -> SendResult:
        return self._chat.send(recipient_id, text, quick_reply)

    # ---- X Activity API subscriptions (real-time events; connectors/x/activity.py reads them) --------

    def list_activity_subscriptions(self) -> list[ActivitySubscription]:
        """Every subscription the app holds (all pages)."""
        out: list[ActivitySubscription] = []
        token: str | None = None
        for _ in range(100):  # 1,500 subscriptions at most on self-serve tiers: 2 pages of 1,000

            def call(token: str | None = token) -> Any:
                return next(
                    iter(self._sdk.activity.get_subscriptions(max_results=1000, pagination_token=token))
                )

            body, _ = self._read("activity_subscriptions", call)
            out.extend(activity.parse_subscriptions(body))
            meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
            token = meta.get("next_token") if isinstance(meta.get("next_token"), str) else None
            if not token:
                break
        return out

    def create_activity_subscription(
        self, event_type: str, user_id: str, *, direction: str | None = None, webhook_id: str | None = None
    ) -> ActivitySubscription:
        """Subscribe the app to `event_type` for `user_id` (this account). PlatformRejected with status
        409 when the same subscription exists already."""
        filt: dict[str, str] = {"user_id": user_id}
        if direction is not None:
            filt["direction"] = direction
        body_json: dict[str, Any] = {"event_type": event_type, "filter": filt, "tag": activity.TAG}
        if webhook_id is not None:
            body_json["webhook_id"] = webhook_id
        # A plain dict, not xdk's CreateActivitySubscriptionRequest: that model's event_type enum
        # (OpenAPI 2.167) lacks post.reply.create, post.quote.create and oauth.revoke, which X
        # documents and delivers; xdk sends a dict body as it is.
        body, _ = self._once(
            "activity_subscription_create",
            lambda: self._sdk.activity.create_subscription(body=body_json),
        )
        data = body.get("data")
        sub = data.get("subscription") if isinstance(data, dict) else None
        parsed = activity.parse_subscriptions({"data": [sub]})
        if not parsed:
            raise _malformed(
                "activity_subscription_create",
                "POST /2/activity/subscriptions returned no subscription",
                _dump(body),
            )
        return parsed[0]


def _malformed(endpoint: str, reason: str, body: str) -> MalformedResponse:
    return MalformedResponse(endpoint, reason, body, platform=parse.PLATFORM)


def _dump(body: Any) -> str:
    return parse.dump_payload(body)


def _envelope_problem(body: Any) -> str | None:
    """Why a 2xx body is not an X v2 envelope (None when it is one)."""
    if not isinstance(body, dict):
        return f"response is not a JSON object but {type(body).__name__}"
    data = body.get("data")
    if data is not None and not isinstance(data, list | dict):
        return f"data must be a list or object, got {type(data).__name__}"
    meta = body.get("meta")
    if meta is not None and not isinstance(meta, dict):
        return f"meta must be an object, got {type(meta).__name__}"
    if isinstance(meta, dict) and "next_token" in meta and not isinstance(meta["next_token"], str):
        return "meta.next_token must be a string"
    return None
