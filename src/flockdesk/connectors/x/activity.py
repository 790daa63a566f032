"""The X Activity API (real-time events): which subscriptions an account needs, the persistent stream
(`GET /2/activity/stream`), webhook CRC answers and signatures, and the parsing of each delivered
envelope into Flockdesk's `ActivityEvent` (domain/realtime.py).

Envelope (docs.x.com x-api/activity): `{"data": {"event_uuid", "filter": {"user_id"}, "event_type",
"tag"?, "payload", "includes"?}}`. Post events carry a Post (with `includes`), legacy DM events
`direct_message_events` and a `users` map, follow events `source`/`target` as `{"data": user}`,
`oauth.revoke` `{date_time, user_id, app_id}`. Chat events are end-to-end encrypted: handed on as
they came, for the X Chat connector.

**Why httpx and not xdk for the stream.** xdk 0.10.6 has `Client.stream.activity()`, but it validates
every line into its pydantic model and drops (with a debug log) each line that is not JSON or does not
validate, so an event could vanish without a dead letter; it swallows the keep-alive lines, which are
our only sign that an idle stream is alive; and it reconnects inside the generator with the first
request's parameters and a blocking `time.sleep`, so a consumer can neither resume a drop with
`backfill_minutes` nor stop promptly. So the stream is a plain httpx streaming GET against the same
base URL; subscriptions go through xdk (connectors/x/client.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson

from flockdesk.connectors.base import (
    ActivitySubscription,
    AuthError,
    ConnectorError,
    PlatformRejected,
    RateLimited,
    TransientError,
    WebhookRegistration,
)
from flockdesk.connectors.x import links, parse, webhooks
from flockdesk.connectors.x.limits import read_headers
from flockdesk.domain.realtime import AccessRevoked, ActivityEvent, ChatEnvelope, FollowChange
from flockdesk.domain.types import DeadLetter, InboundItem

TAG = "flockdesk"
ORIGIN = "x:activity"
# (event type, direction filter) every connected account subscribes to
SUBSCRIPTIONS: tuple[tuple[str, str | None], ...] = (
    ("post.mention.create", None),
    ("post.reply.create", None),
    ("post.quote.create", None),
    ("dm.received", None),
    ("dm.sent", None),
    ("chat.received", None),
    ("chat.sent", None),
    ("chat.conversation_join", None),
    ("follow.follow", "inbound"),
    ("follow.unfollow", "inbound"),
    ("oauth.revoke", None),
)
POST_EVENTS = frozenset({"post.mention.create", "post.reply.create", "post.quote.create", "post.create"})
DM_EVENTS = frozenset({"dm.received", "dm.sent"})
CHAT_PREFIX = "chat."
# understood and deliberately not stored
IGNORED_EVENTS = frozenset(
    {"dm.read", "dm.indicate_typing", "post.repost.create", "post.delete", "like.create"}
)
# the AAA-style DM entity names -> the v2 names parse.py reads
DM_ENTITY_NAMES = {"hashtags": "hashtags", "user_mentions": "mentions", "urls": "urls", "symbols": "cashtags"}
# delivered events X bills (x-2026.md section 2), as logical endpoints for the cost meter
BILLED_EVENTS = {
    "post.mention.create": "event_post",
    "post.reply.create": "event_post",
    "post.quote.create": "event_post",
    "post.repost.create": "event_post",
    "post.create": "event_post",
    "follow.follow": "event_follow",
    "follow.unfollow": "event_follow",
    "dm.received": "event_dm",
    "chat.received": "event_chat",
}


def billed_resource(event: ActivityEvent) -> str | None:
    """The resource a billed event is charged for: the post or DM it carries (the same resource as a
    read of it, so X bills it once that day either way), else the event itself."""
    endpoint = BILLED_EVENTS.get(event.event_type)
    if endpoint is None:
        return None
    if endpoint == "event_post" and event.item is not None:
        return f"post:{event.item.external_id}"
    if endpoint == "event_dm" and event.item is not None:
        return f"dm:{event.item.external_id}"
    if endpoint == "event_chat" and event.chat is not None:
        chat_id = event.chat.payload.get("id")
        return f"chat:{chat_id if isinstance(chat_id, str | int) else event.event_uuid}"
    if endpoint == "event_follow":
        return f"follow:{event.event_uuid}"
    return None


def parse_subscriptions(body: Any) -> list[ActivitySubscription]:
    """The subscriptions in a `GET /2/activity/subscriptions` page (malformed entries are skipped:
    the worst case is a 409 when the subscription is created again)."""
    data = body.get("data") if isinstance(body, dict) else None
    out: list[ActivitySubscription] = []
    for sub in data if isinstance(data, list) else []:
        if not isinstance(sub, dict):
            continue
        sid, event_type = sub.get("subscription_id"), sub.get("event_type")
        filt = _obj(sub.get("filter"))
        if not isinstance(sid, str) or not isinstance(event_type, str):
            continue
        user_id, direction, hook = filt.get("user_id"), filt.get("direction"), sub.get("webhook_id")
        out.append(
            ActivitySubscription(
                sid,
                event_type,
                user_id if isinstance(user_id, str) else None,
                direction if isinstance(direction, str) else None,
                hook if isinstance(hook, str) else None,
            )
        )
    return out


# ---- webhooks -------------------------------------------------------------------------------------


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _hmac(secret: str, data: bytes) -> str:
    return "sha256=" + base64.b64encode(hmac.new(secret.encode(), data, hashlib.sha256).digest()).decode()


def crc_response(secret: str, crc_token: str) -> dict[str, str]:
    """X's CRC answer: `{"response_token": "sha256=" + base64(HMAC-SHA256(consumer secret, crc_token))}`."""
    return {"response_token": _hmac(secret, crc_token.encode())}


SIGNATURE_HEADERS = ("x-twitter-webhooks-signature", "x-twitter-webhooks-signature-oauth2")


def signature_valid(secret: str, body: bytes, headers: Mapping[str, str]) -> bool:
    """True when a delivery carries X's signature of `body` made with `secret` (the consumer secret
    signs `x-twitter-webhooks-signature`, the OAuth 2.0 client secret the `-oauth2` header)."""
    want = _hmac(secret, body)
    return any(hmac.compare_digest(headers.get(h, ""), want) for h in SIGNATURE_HEADERS)


# ---- the stream -----------------------------------------------------------------------------------


class ActivityStream:
    """One connection to `GET /2/activity/stream` (the app's bearer token). `lines()` yields each
    envelope line, and "" for each keep-alive; it ends when the server closes the connection. `close()`
    may be called from another thread to end a blocked read (a stopping worker)."""

    def __init__(
        self,
        base_url: str,
        bearer_token: str,
        *,
        backfill_minutes: int = 0,
        connect_timeout_s: float = 10.0,
        stall_timeout_s: float = 60.0,
    ) -> None:
        self.url = base_url.rstrip("/") + "/2/activity/stream"
        self._params = {"backfill_minutes": str(backfill_minutes)} if backfill_minutes > 0 else {}
        self._headers = {"Authorization": f"Bearer {bearer_token}", "Accept": "application/json"}
        # read timeout: no byte (not even a keep-alive) for this long means the connection is dead
        self._client = httpx.Client(timeout=httpx.Timeout(connect_timeout_s, read=stall_timeout_s))
        self._response: httpx.Response | None = None

    def open(self) -> None:
        """Connect; raises AuthError (401/403), RateLimited (429), PlatformRejected (other 4xx) or
        TransientError (5xx, no connection)."""
        try:
            request = self._client.build_request("GET", self.url, params=self._params, headers=self._headers)
            resp = self._client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise TransientError(f"activity stream: {type(exc).__name__}", maybe_applied=False) from exc
        if resp.status_code == 200:
            self._response = resp
            return
        body = resp.read()[:2000].decode("utf-8", "replace")
        resp.close()
        detail = f"activity stream: {resp.status_code} {_problem(body) or resp.reason_phrase}"
        if resp.status_code == 429:
            rate = read_headers(resp.headers)
            raise RateLimited("activity_stream", rate.reset_at if rate else None, detail)
        if resp.status_code in (401, 403):
            raise AuthError(detail)
        if 400 <= resp.status_code < 500:
            raise PlatformRejected(resp.status_code, detail)
        raise TransientError(detail, maybe_applied=False)

    def lines(self) -> Iterator[str]:
        if self._response is None:
            raise ConnectorError("activity stream: open() first")
        try:
            for line in self._response.iter_lines():
                yield line.strip()
        except httpx.HTTPError as exc:
            raise TransientError(
                f"activity stream dropped: {type(exc).__name__}", maybe_applied=False
            ) from exc

    def close(self) -> None:
        if self._response is not None:
            self._response.close()
        self._client.close()


def _problem(body: str) -> str | None:
    try:
        obj = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if isinstance(obj, dict):
        for key in ("detail", "title"):
            if isinstance(obj.get(key), str):
                return str(obj[key])
    return None


# ---- parsing one envelope -------------------------------------------------------------------------


def _dead(reason: str, obj: Any, event_uuid: str = "", event_type: str = "") -> ActivityEvent:
    return ActivityEvent(
        event_uuid, event_type, None, dead=DeadLetter(ORIGIN, reason, parse.dump_payload(obj))
    )


def _time(value: Any) -> datetime | None:
    try:
        return parse.parse_time(value)
    except ValueError:
        return None


def parse_line(line: str | bytes) -> ActivityEvent | None:
    """One line of the stream (or a webhook body): None for a keep-alive, else the parsed event."""
    if not line or not line.strip():
        return None
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        text = line.decode("utf-8", "replace") if isinstance(line, bytes) else line
        return _dead(f"activity event is not JSON: {exc}", text[:100_000])
    return parse_envelope(obj)


def parse_envelope(obj: Any) -> ActivityEvent:
    data = obj.get("data") if isinstance(obj, dict) else None
    if not isinstance(data, dict):
        return _dead("activity event without a `data` object", obj)
    event_uuid, event_type = data.get("event_uuid"), data.get("event_type")
    if not isinstance(event_uuid, str | int) or isinstance(event_uuid, bool) or not str(event_uuid):
        return _dead("activity event without an event_uuid", obj)
    uuid = str(event_uuid)
    if not isinstance(event_type, str):
        return _dead("activity event without an event_type", obj, uuid)
    filt = _obj(data.get("filter"))
    payload = data.get("payload")
    user_id = filt.get("user_id") if isinstance(filt.get("user_id"), str) else None
    if event_type == "oauth.revoke" and isinstance(payload, dict) and isinstance(payload.get("user_id"), str):
        user_id = payload["user_id"]  # X sends revokes with an empty filter
    base = ActivityEvent(uuid, event_type, user_id)
    if not isinstance(payload, dict):
        return _dead(f"{event_type} event without a payload object", obj, uuid, event_type)
    try:
        if event_type in POST_EVENTS:
            return _post_event(base, payload, data.get("includes"), obj)
        if event_type in DM_EVENTS:
            return _dm_event(base, payload, obj)
        if event_type.startswith(CHAT_PREFIX):
            if user_id is None:
                return _dead(f"{event_type} event without filter.user_id", obj, uuid, event_type)
            chat = ChatEnvelope(uuid, event_type, user_id, payload)
            return _with(base, chat=chat)
        if event_type in ("follow.follow", "follow.unfollow"):
            return _follow_event(base, payload, obj)
        if event_type == "oauth.revoke":
            app_id = payload.get("app_id")
            if user_id is None:
                return _dead("oauth.revoke event without a user_id", obj, uuid, event_type)
            revoked = AccessRevoked(user_id, str(app_id) if isinstance(app_id, str | int) else None)
            return _with(base, revoked=revoked, created_at=_time(payload.get("date_time")))
        if event_type in IGNORED_EVENTS:
            return _with(base, ignored=True)
    except ValueError as exc:  # parse.py's malformed-item error
        return _dead(f"{event_type}: {exc}", obj, uuid, event_type)
    return _dead(f"unknown activity event type {event_type!r}", obj, uuid, event_type)


def _with(base: ActivityEvent, **changes: Any) -> ActivityEvent:
    fields = {name: getattr(base, name) for name in base.__slots__}
    fields.update(changes)
    return ActivityEvent(**fields)


def _one(
    page_items: list[InboundItem], page_dead: list[DeadLetter], base: ActivityEvent, obj: Any
) -> ActivityEvent:
    if page_items:
        item = page_items[0]
        return _with(base, item=item, created_at=item.created_at, dead=page_dead[0] if page_dead else None)
    reason = page_dead[0].reason if page_dead else "no message in the event"
    return _dead(f"{base.event_type}: {reason}", obj, base.event_uuid, base.event_type)


def _post_event(base: ActivityEvent, payload: dict[str, Any], includes: Any, obj: Any) -> ActivityEvent:
    """A post that mentions, answers or quotes the account: the same item the mentions timeline gives."""
    page_json: dict[str, Any] = {"data": [payload]}
    if isinstance(includes, dict):
        page_json["includes"] = includes
    if base.event_type == "post.create":  # the account's own post: the ingest echo rule files it
        page = parse.parse_own_posts_page(page_json, org_user_id=base.user_id)
    else:
        page = parse.parse_tweet_page(page_json, channel="mention", org_user_id=base.user_id)
    return _one(page.items, page.dead, base, obj)


def _dm_event(base: ActivityEvent, payload: dict[str, Any], obj: Any) -> ActivityEvent:
    """A legacy DM (Account Activity shape) as the same item `GET /2/dm_events` gives: same id, same
    `<min>-<max>` conversation id, so a DM that arrives both ways is stored once."""
    events = payload.get("direct_message_events")
    if not isinstance(events, list) or not events or not isinstance(events[0], dict):
        raise ValueError("direct_message_events must hold a message_create event")
    ev = events[0]
    create = ev.get("message_create")
    if ev.get("type") != "message_create" or not isinstance(create, dict):
        raise ValueError(f"unsupported DM event type {ev.get('type')!r}")
    sender = create.get("sender_id")
    target = _obj(create.get("target"))
    recipient = target.get("recipient_id")
    message = _obj(create.get("message_data"))
    if not isinstance(sender, str) or not isinstance(recipient, str):
        raise ValueError("message_create needs sender_id and target.recipient_id")
    v2: dict[str, Any] = {
        "id": ev.get("id"),
        "event_type": "MessageCreate",
        "text": message.get("text"),
        "sender_id": sender,
        "dm_conversation_id": links.dm_thread_id(sender, recipient),
    }
    stamp = ev.get("created_timestamp")
    if isinstance(stamp, str) and stamp.isdigit() or isinstance(stamp, int):
        created = datetime.fromtimestamp(int(stamp) / 1000, UTC)
        v2["created_at"] = created.strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(stamp) % 1000:03d}Z"
    entities = message.get("entities")
    if isinstance(entities, dict):
        v2["entities"] = {DM_ENTITY_NAMES[k]: v for k, v in entities.items() if k in DM_ENTITY_NAMES}
    users = payload.get("users")
    user_list = [
        u["data"]
        for u in (users.values() if isinstance(users, dict) else [])
        if isinstance(u, dict) and isinstance(u.get("data"), dict)
    ]
    page = parse.parse_dm_page(
        {"data": [v2], "includes": {"users": user_list}}, org_user_id=base.user_id, origin=ORIGIN
    )
    return _one(page.items, page.dead, base, obj)


def _follow_event(base: ActivityEvent, payload: dict[str, Any], obj: Any) -> ActivityEvent:
    source = payload.get("source")
    user = source.get("data") if isinstance(source, dict) and "data" in source else source
    follower = parse.parse_author(user)
    if follower is None:
        raise ValueError("follow event without a source user")
    return _with(base, follow=FollowChange(follower, base.event_type == "follow.follow"))


class XRealtime:
    """X's real-time rules for the registry (connectors/base.py: `RealtimeRules`)."""

    name: str = "x"
    subscriptions: tuple[tuple[str, str | None], ...] = SUBSCRIPTIONS
    billed_events: Mapping[str, str] = BILLED_EVENTS

    def billed_resource(self, event: ActivityEvent) -> str | None:
        return billed_resource(event)

    def open_stream(
        self,
        base_url: str,
        bearer_token: str,
        *,
        backfill_minutes: int,
        connect_timeout_s: float,
        stall_timeout_s: float,
    ) -> ActivityStream:
        stream = ActivityStream(
            base_url,
            bearer_token,
            backfill_minutes=backfill_minutes,
            connect_timeout_s=connect_timeout_s,
            stall_timeout_s=stall_timeout_s,
        )
        stream.open()
        return stream

    def parse_line(self, line: str | bytes) -> ActivityEvent | None:
        return parse_line(line)

    def crc_response(self, secret: str, crc_token: str) -> dict[str, str]:
        return crc_response(secret, crc_token)

    def signature_valid(self, secret: str, body: bytes, headers: Mapping[str, str]) -> bool:
        return signature_valid(secret, body, headers)

    def ensure_webhook(self, base_url: str, bearer_token: str, url: str) -> tuple[WebhookRegistration, bool]:
        return webhooks.ensure_webhook(base_url, bearer_token, url)

    def move_subscription(
        self, base_url: str, bearer_token: str, subscription_id: str, webhook_id: str | None
    ) -> None:
        webhooks.move_subscription(base_url, bearer_token, subscription_id, webhook_id)


REALTIME = XRealtime()
