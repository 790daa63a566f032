"""The X Activity API: subscriptions (`/2/activity/subscriptions`) and the persistent stream
(`GET /2/activity/stream`) that delivers the activity log's events matching them.

Envelope per event and matching subscription: `{"data": {"event_uuid", "filter", "event_type", "tag"?,
"payload", "includes"?}}`, one JSON object per line (`\\r\\n`), keep-alive blank lines while idle. The
same event has the same `event_uuid` on every delivery (stream, backfill, webhook, replay), so clients
can drop repeats. Resuming: `backfill_minutes` (0..5) or `start_time`/`end_time` replay the log from
that time; the emulator keeps its whole log (see activity.ACTIVITY_LOG_MAX).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson
from starlette.responses import Response, StreamingResponse

from flockdesk.emulator import billing
from flockdesk.emulator.activity import ActivityEvent
from flockdesk.emulator.http import ApiError
from flockdesk.emulator.render import ParamError
from flockdesk.emulator.state import EmulatorState

if TYPE_CHECKING:
    from flockdesk.emulator.api import Ctx

# X's documented event types (event-payloads.mdx and the 2.167 spec), plus the post events x-2026.md
# lists that the 2.167 spec's enum does not yet hold (strict mode refuses those, as X's playground would)
EVENT_TYPES = frozenset(
    {
        "profile.update.bio",
        "profile.update.profile_picture",
        "profile.update.banner_picture",
        "profile.update.screenname",
        "profile.update.geo",
        "profile.update.url",
        "profile.update.verified_badge",
        "profile.update.affiliate_badge",
        "profile.update.handle",
        "news.new",
        "follow.follow",
        "follow.unfollow",
        "spaces.start",
        "spaces.end",
        "chat.received",
        "chat.sent",
        "chat.conversation_join",
        "dm.sent",
        "dm.received",
        "dm.indicate_typing",
        "dm.read",
        "post.create",
        "post.delete",
        "post.mention.create",
        "post.reply.create",
        "post.quote.create",
        "post.repost.create",
        "like.create",
        "mute.mute",
        "mute.unmute",
        "block.block",
        "block.unblock",
        "oauth.revoke",
    }
)
PUBLIC_PREFIXES = ("profile.update.", "news.", "spaces.")
DIRECTIONAL_PREFIXES = ("follow.", "like.", "dm.", "chat.")
DIRECTIONS = {"inbound": "inbound", "outbound": "outbound", "received": "inbound", "sent": "outbound"}
ID_LEN = 19


def scope_for(event_type: str) -> str:
    """The OAuth 2.0 scope a user-context token needs to subscribe (2.167's createActivitySubscription)."""
    for prefix, scope in (("dm.", "dm.read"), ("chat.", "dm.read"), ("like.", "like.read")):
        if event_type.startswith(prefix):
            return scope
    for prefix, scope in (("mute.", "mute.read"), ("block.", "block.read")):
        if event_type.startswith(prefix):
            return scope
    return "tweet.read"


def iso(at: float) -> str:
    dt = datetime.fromtimestamp(at, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(at * 1000) % 1000:03d}Z"


@dataclass
class Subscription:
    id: str
    event_type: str
    user_id: str | None
    keyword: str | None
    direction: str | None
    tag: str | None
    webhook_id: str | None
    created_at: float
    updated_at: float

    def filter_json(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.user_id is not None:
            out["user_id"] = self.user_id
        if self.keyword is not None:
            out["keyword"] = self.keyword
        if self.direction is not None:
            out["direction"] = self.direction
        return out

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "subscription_id": self.id,
            "event_type": self.event_type,
            "filter": self.filter_json(),
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }
        if self.tag is not None:
            out["tag"] = self.tag
        if self.webhook_id is not None:
            out["webhook_id"] = self.webhook_id
        return out

    def matches(self, event: ActivityEvent) -> bool:
        if event.event_type != self.event_type:
            return False
        if self.user_id is not None and self.user_id != event.user_id:
            return False
        if self.direction is not None:
            return DIRECTIONS.get(event.direction or "") == self.direction
        return True


def matching(state: EmulatorState, event: ActivityEvent) -> list[Subscription]:
    """Subscriptions `event` is delivered for, oldest first. Call under the state's lock."""
    return [s for s in state.subscriptions.values() if s.matches(event)]


def envelope(event: ActivityEvent, sub: Subscription) -> dict[str, Any]:
    filt: dict[str, str] = {} if event.event_type == "oauth.revoke" else {"user_id": event.user_id}
    if sub.direction is not None:
        filt["direction"] = sub.direction
    data: dict[str, Any] = {"event_uuid": str(event.seq), "filter": filt, "event_type": event.event_type}
    if sub.tag is not None:
        data["tag"] = sub.tag
    data["payload"] = event.payload
    if event.includes:
        data["includes"] = event.includes
    return {"data": data}


# -- subscriptions -----------------------------------------------------------------------------------


def _bad_body(field: str, message: str) -> ApiError:
    return ApiError(
        400,
        "Invalid Request",
        "One or more parameters to your request was invalid.",
        "invalid-request",
        errors=[{"parameters": {field: [message]}, "message": message}],
    )


def _string(body: dict[str, Any], key: str, max_len: int = 200) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not 1 <= len(value) <= max_len:
        raise _bad_body(key, f"`{key}` must be a string of 1 to {max_len} characters")
    return value


def _webhook_id(ctx: Ctx, body: dict[str, Any]) -> str | None:
    wid = _string(body, "webhook_id", ID_LEN)
    if wid is not None and wid not in ctx.state.webhooks:
        raise ApiError(
            400, "Invalid Request", f"No webhook with id [{wid}]: create it with POST /2/webhooks first."
        )
    return wid


def _total(state: EmulatorState) -> dict[str, int]:
    return {"total_subscriptions": len(state.subscriptions)}


def create_subscription(ctx: Ctx) -> tuple[int, dict[str, Any]]:
    state, body = ctx.state, ctx.body
    unknown = sorted(set(body) - {"event_type", "filter", "tag", "webhook_id"})
    if unknown:
        raise _bad_body(unknown[0], f"`{unknown[0]}` is not a field of a subscription")
    event_type = body.get("event_type")
    if not isinstance(event_type, str) or event_type not in EVENT_TYPES:
        raise _bad_body("event_type", f"`event_type` must be one of {', '.join(sorted(EVENT_TYPES))}")
    filt = body.get("filter")
    if not isinstance(filt, dict):
        raise _bad_body("filter", '`filter` is required, e.g. {"user_id": "2244994945"}')
    bad = sorted(set(filt) - {"user_id", "keyword", "direction"})
    if bad:
        raise _bad_body("filter", f"`filter.{bad[0]}` is not a filter field (user_id, keyword, direction)")
    user_id, keyword = filt.get("user_id"), filt.get("keyword")
    if user_id is not None and (not isinstance(user_id, str) or not user_id.isdigit()):
        raise _bad_body("filter", "`filter.user_id` must be a user id (digits)")
    if keyword is not None and (not isinstance(keyword, str) or not 1 <= len(keyword) <= 150):
        raise _bad_body("filter", "`filter.keyword` must be a string of 1 to 150 characters")
    if user_id is None and keyword is None and event_type != "oauth.revoke":
        raise _bad_body("filter", "`filter` needs a `user_id` (or a `keyword` for news.new)")
    direction = filt.get("direction")
    if direction is not None:
        if direction not in DIRECTIONS:
            raise _bad_body("filter", "`filter.direction` must be inbound or outbound")
        if not event_type.startswith(DIRECTIONAL_PREFIXES):
            raise _bad_body("filter", f"`filter.direction` is not supported for {event_type} events")
        direction = DIRECTIONS[direction]
    private = not event_type.startswith(PUBLIC_PREFIXES)
    if private and user_id is not None and user_id != state.org.id:
        raise ApiError(
            403,
            "Forbidden",
            f"{event_type} is a private event: subscriptions for it can only be created for users who "
            "have authorized your app.",
            "client-forbidden",
            reason="user-not-authorized",
        )
    if not ctx.identity.app_only and scope_for(event_type) not in ctx.identity.scopes:
        raise ApiError(
            403,
            "Forbidden",
            f"Your OAuth 2.0 access token lacks the scope {scope_for(event_type)} needed for {event_type}",
            "client-forbidden",
            reason="missing-scopes",
        )
    tag = _string(body, "tag")
    webhook_id = _webhook_id(ctx, body)
    for existing in state.subscriptions.values():
        if (existing.event_type, existing.user_id, existing.keyword, existing.direction) == (
            event_type,
            user_id,
            keyword,
            direction,
        ):
            raise ApiError(
                409,
                "Conflict",
                f"A subscription for {event_type} with this filter exists already "
                f"(subscription_id {existing.id}); update or delete it instead.",
                "duplicate",
            )
    limit = state.config.subscription_limit
    if len(state.subscriptions) >= limit:
        raise ApiError(
            429,
            "Too Many Requests",
            f"Your app holds the maximum of {limit} activity subscriptions; delete some first.",
            "usage-capped",
        )
    now = time.time()
    sub = Subscription(
        str(state.ids.next()), event_type, user_id, keyword, direction, tag, webhook_id, now, now
    )
    state.subscriptions[sub.id] = sub
    return 200, {"data": {"subscription": sub.as_json()}, "meta": _total(state)}


def list_subscriptions(ctx: Ctx) -> tuple[int, dict[str, Any]]:
    raw_max = ctx.params.get("max_results", "100")
    if not raw_max.isdigit() or not 1 <= int(raw_max) <= 1000:
        raise ParamError("max_results", f"The `max_results` value [{raw_max}] is not between 1 and 1000")
    subs = sorted(ctx.state.subscriptions.values(), key=lambda s: int(s.id))
    token = ctx.params.get("pagination_token")
    start = 0
    if token is not None:
        if not token.isdigit() or len(token) < 16:
            raise ParamError("pagination_token", f"The `pagination_token` value [{token}] is not valid")
        start = next((i for i, s in enumerate(subs) if int(s.id) >= int(token)), len(subs))
    page = subs[start : start + int(raw_max)]
    meta: dict[str, Any] = {**_total(ctx.state), "result_count": len(page)}
    if start + int(raw_max) < len(subs):
        meta["next_token"] = subs[start + int(raw_max)].id
    return 200, {"data": [s.as_json() for s in page], "meta": meta}


def _subscription(ctx: Ctx) -> Subscription:
    sid = ctx.path["subscription_id"]
    sub: Subscription | None = ctx.state.subscriptions.get(sid)
    if sub is None:
        raise ApiError(
            404,
            "Not Found Error",
            f"Could not find subscription with id: [{sid}].",
            "resource-not-found",
            resource_type="subscription",
            resource_id=sid,
            parameter="subscription_id",
            value=sid,
        )
    return sub


def update_subscription(ctx: Ctx) -> tuple[int, dict[str, Any]]:
    sub = _subscription(ctx)
    body = ctx.body
    unknown = sorted(set(body) - {"tag", "webhook_id"})
    if unknown:
        raise _bad_body(
            unknown[0],
            f"`{unknown[0]}` cannot be updated: only tag and webhook_id; to change the filter or "
            "event_type delete the subscription and create a new one",
        )
    if "tag" in body:
        sub.tag = _string(body, "tag")
    if "webhook_id" in body:
        sub.webhook_id = _webhook_id(ctx, body)
    sub.updated_at = time.time()
    return 200, {"data": {"subscription": sub.as_json(), **_total(ctx.state)}, "meta": _total(ctx.state)}


def delete_subscription(ctx: Ctx) -> tuple[int, dict[str, Any]]:
    sub = _subscription(ctx)
    del ctx.state.subscriptions[sub.id]
    return 200, {"data": {"deleted": True}, "meta": _total(ctx.state)}


def delete_subscriptions(ctx: Ctx) -> tuple[int, dict[str, Any]]:
    raw = ctx.params.get("ids")
    ids = [i.strip() for i in (raw or "").split(",") if i.strip()]
    if not 1 <= len(ids) <= 100:
        raise ParamError("ids", "The `ids` query parameter needs 1 to 100 subscription ids")
    data: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for sid in ids:
        if ctx.state.subscriptions.pop(sid, None) is not None:
            data.append({"subscription_id": sid, "deleted": True})
        else:
            errors.append({"subscription_id": sid, "reason": "not-found", "message": "No such subscription"})
    body: dict[str, Any] = {"data": data, "meta": _total(ctx.state)}
    if errors:
        body["errors"] = errors
    return 200, body


# -- the persistent stream ----------------------------------------------------------------------------


def _stream_window(ctx: Ctx) -> tuple[float | None, float | None]:
    """(start, end) Unix times from `backfill_minutes` / `start_time` / `end_time`, or None."""
    start: float | None = None
    raw = ctx.params.get("backfill_minutes")
    if raw is not None:
        if not raw.isdigit() or int(raw) > 5:
            raise ParamError(
                "backfill_minutes", f"The `backfill_minutes` value [{raw}] is not between 0 and 5"
            )
        if int(raw):
            start = time.time() - int(raw) * 60
    times: list[float | None] = []
    for name in ("start_time", "end_time"):
        value = ctx.params.get(name)
        if value is None:
            times.append(None)
            continue
        try:
            times.append(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())
        except ValueError as exc:
            raise ParamError(name, f"The `{name}` value [{value}] is not an ISO 8601 date-time") from exc
    if times[0] is not None:
        start = times[0] if start is None else min(start, times[0])
    return start, times[1]


async def activity_stream(ctx: Ctx) -> Response:
    """GET /2/activity/stream: app-only; at most `stream_connections` at once."""
    state = ctx.state
    start, end = _stream_window(ctx)
    with state.lock:
        if state.stream_open >= state.config.stream_connections:
            raise ApiError(
                429,
                "ConnectionException",
                "This stream is currently at the maximum allowed connection limit.",
                "streaming-connection",
                connection_issue="TooManyConnections",
            )
        state.stream_open += 1
        state.stream_connects += 1
    live_from = state.activity.last_seq
    cursor = live_from if start is None else state.activity.seq_at(start)
    return StreamingResponse(_stream(state, cursor, live_from, end), media_type="application/json")


async def _stream(
    state: EmulatorState, cursor: int, live_from: int, end: float | None
) -> AsyncIterator[bytes]:
    """Deliver from `cursor`; events up to `live_from` are backfill, which cut faults do not count (so a
    client that reconnects with backfill always gets further). The connection ends when the control
    API drops every stream (`POST /_emulator/streams/drop`) or a stream fault says so."""
    delivered = 0
    last_write = time.monotonic()
    generation = state.stream_generation
    live_since: float | None = None  # when this connection caught up with its backfill

    def ended() -> bool:
        nonlocal live_since
        if state.stream_generation != generation:
            return True
        if live_since is None:
            if cursor < live_from:
                return False
            live_since = time.monotonic()
        with state.lock:
            return state.faults.stream_expired(time.monotonic() - live_since)

    try:
        yield b"\r\n"  # flush the headers at once, as X does with its first keep-alive
        while not state.closing.is_set():
            if ended():
                return
            batch = state.activity.since(cursor, 500)
            for event in batch:
                cursor = event.seq
                if end is not None and event.at > end:
                    return
                with state.lock:
                    subs = matching(state, event)
                for sub in subs:
                    yield orjson.dumps(envelope(event, sub)) + b"\r\n"
                    last_write = time.monotonic()
                    delivered += event.seq > live_from
                    with state.lock:
                        state.stream_events += 1
                        billing.charge_event(state.billing, event.seq, event.event_type, event.payload)
                        cut = event.seq > live_from and state.faults.stream_cut(delivered)
                    if cut or ended():  # an injected drop: the connection ends and the client must reconnect
                        return
            if batch:
                continue
            if end is not None and time.time() > end:
                return
            if time.monotonic() - last_write >= state.config.stream_keepalive_s:
                yield b"\r\n"
                last_write = time.monotonic()
            await asyncio.sleep(0.02)
    finally:
        with state.lock:
            state.stream_open -= 1
