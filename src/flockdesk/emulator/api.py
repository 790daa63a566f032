"""The X API v2 routes: auth, rate limits and faults around handlers that read and write the state."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from flockdesk.emulator import billing, chat_handlers, handlers, strict, webhooks, xaa
from flockdesk.emulator.http import ApiError, invalid_request, json_response, problem
from flockdesk.emulator.render import ParamError
from flockdesk.emulator.state import EmulatorState

USER_SCOPES = {
    "tweet.read",
    "tweet.write",
    "tweet.moderate.write",
    "users.read",
    "dm.read",
    "dm.write",
    "follows.read",
    "offline.access",
}


@dataclass
class Identity:
    key: str
    app_only: bool
    scopes: set[str] = field(default_factory=set)


@dataclass
class Ctx:
    state: EmulatorState
    params: dict[str, str]
    path: dict[str, str]
    body: Any
    identity: Identity
    fault: str | None


Result = tuple[int, dict[str, Any]] | Response
# a plain handler runs under the state's lock; an async one (CRC checks, the stream) takes it itself
Handler = Callable[[Ctx], Result] | Callable[[Ctx], Awaitable[Result]]


def identify(state: EmulatorState, request: Request) -> Identity | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    token = token.strip()
    if token == state.token and not state.user_token_revoked:
        return Identity("user:" + state.org.id, False, set(USER_SCOPES))
    if token == state.app_bearer:
        return Identity("app", True)
    scopes = state.oauth.scopes_for_access_token(token)
    if scopes is not None:
        return Identity("user:" + state.org.id, False, scopes)
    return None


async def _stall(state: EmulatorState) -> None:
    """Sleep `timeout_s` for a timeout fault, ending early when the server shuts down."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + state.config.timeout_s
    while not state.closing.is_set() and (left := deadline - loop.time()) > 0:
        await asyncio.sleep(min(0.05, left))


def endpoint(
    key: str, handler: Handler, *, user_only: bool, read: bool, scopes: set[str]
) -> Callable[[Request], Awaitable[Response]]:
    async def run(request: Request) -> Response:
        state: EmulatorState = request.app.state.emulator
        arrived = time.time()
        response = await answer(state, request)
        state.log_request(arrived, key, dict(request.query_params), response.status_code)
        return response

    async def answer(state: EmulatorState, request: Request) -> Response:
        identity = identify(state, request)
        with state.lock:
            verdict = state.limiter.peek(identity.key if identity else "anonymous", key, True)
        if identity is None:
            return problem(401, "Unauthorized", "Unauthorized", headers=verdict.headers())
        if user_only and identity.app_only:
            return problem(
                403,
                "Unsupported Authentication",
                "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  Supported "
                "authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context].",
                "unsupported-authentication",
                headers=verdict.headers(),
            )
        missing = scopes - identity.scopes if not identity.app_only else set()
        if missing:
            return problem(
                403,
                "Forbidden",
                "Your OAuth 2.0 access token lacks the scopes: " + ", ".join(sorted(missing)),
                "client-forbidden",
                reason="missing-scopes",
                headers=verdict.headers(),
            )
        with state.lock:
            verdict = state.limiter.hit(identity.key, key, identity.app_only)
            fault = state.faults.draw(write=not read) if verdict.allowed else None
        headers = verdict.headers()
        if not verdict.allowed or fault == "rate_limit":
            headers["x-rate-limit-remaining"] = "0"
            return problem(429, "Too Many Requests", "Too Many Requests", headers=headers)
        if fault == "server_error":
            return problem(
                500, "Internal Server Error", "Internal Server Error (injected fault)", headers=headers
            )
        if fault == "timeout":
            await _stall(state)
            return problem(
                503, "Service Unavailable", "Service Unavailable (injected timeout)", headers=headers
            )
        body: Any = None
        if request.method in ("POST", "PUT"):
            raw = await request.body()
            try:
                body = orjson.loads(raw) if raw else {}  # PUT /2/webhooks/:id has no body
            except orjson.JSONDecodeError:
                return problem(
                    400,
                    "Invalid Request",
                    "The request body is not valid JSON.",
                    "invalid-request",
                    headers=headers,
                )
            if not isinstance(body, dict) and not (body is None and key in NO_BODY):
                return problem(
                    400,
                    "Invalid Request",
                    "The request body must be a JSON object.",
                    "invalid-request",
                    headers=headers,
                )
        spec = state.config.strict_spec
        if spec is not None:
            try:
                strict.load(spec, state.config.spec_dir).check(
                    request.method, request.url.path, dict(request.query_params), body
                )
            except strict.StrictSpecError as exc:
                return problem(500, "Emulator strict mode error", str(exc), headers=headers)
            except strict.Refusal as exc:
                if exc.status == 404:
                    return problem(404, "Not Found Error", str(exc), "resource-not-found", headers=headers)
                return invalid_request(exc.parameter, str(exc), headers=headers)
        unknown = sorted(set(request.query_params) - PARAMS[key])
        if unknown:
            allowed = ",".join(sorted(PARAMS[key]))
            message = f"The query parameter [{unknown[0]}] is not one of [{allowed}]"
            return invalid_request(unknown[0], message, headers=headers)
        ctx = Ctx(state, dict(request.query_params), dict(request.path_params), body, identity, fault)
        try:
            if inspect.iscoroutinefunction(handler):
                result = await handler(ctx)
            else:
                with state.lock:
                    result = handler(ctx)
        except ParamError as exc:
            return invalid_request(exc.parameter, str(exc), headers=headers)
        except ApiError as exc:
            return exc.response(headers=headers)
        if isinstance(result, Response):
            result.headers.update(headers)
            return result
        status, payload = result
        if read and status == 200:
            with state.lock:
                owned = ctx.path.get("id") == state.org.id
                billing.charge_read(state.billing, key, owned, payload)
        if fault == "lost_response":  # the write above was applied; its answer never arrives
            return problem(
                503, "Service Unavailable", "Service Unavailable (injected lost response)", headers=headers
            )
        if fault == "malformed":
            data = orjson.dumps(payload)
            return Response(
                data[: max(1, len(data) // 2)],
                status_code=status,
                media_type="application/json",
                headers=headers,
            )
        return json_response(payload, status, headers)

    run.__name__ = f"api_{key}"
    return run


NO_BODY = frozenset({"chat_typing"})  # POSTs whose operation has no request body
FIELDS = frozenset(
    {
        "tweet.fields",
        "post.fields",
        "expansions",
        "user.fields",
        "media.fields",
        "poll.fields",
        "place.fields",
    }
)
PARAMS = {
    "users_me": frozenset({"user.fields", "expansions", "tweet.fields", "post.fields"}),
    "mentions": FIELDS
    | {"since_id", "until_id", "max_results", "pagination_token", "start_time", "end_time"},
    "search": FIELDS
    | {
        "query",
        "start_time",
        "end_time",
        "since_id",
        "until_id",
        "max_results",
        "next_token",
        "pagination_token",
        "sort_order",
    },
    "dm_events": frozenset(
        {
            "max_results",
            "pagination_token",
            "event_types",
            "dm_event.fields",
            "expansions",
            "media.fields",
            "user.fields",
            "tweet.fields",
            "post.fields",
        }
    ),
    "followers": frozenset(
        {"max_results", "pagination_token", "user.fields", "expansions", "tweet.fields", "post.fields"}
    ),
    "user_tweets": FIELDS
    | {
        "since_id",
        "until_id",
        "max_results",
        "pagination_token",
        "start_time",
        "end_time",
        "exclude",
    },
    "post_tweet": frozenset(),
    "post_dm": frozenset(),
    "hide_reply": frozenset(),
    "activity_subscriptions": frozenset({"max_results", "pagination_token", "ids"}),
    "activity_subscription": frozenset(),
    "activity_stream": frozenset({"backfill_minutes", "start_time", "end_time"}),
    "webhooks": frozenset({"webhook_config.fields"}),
    "webhooks_replay": frozenset(),
    "removed": frozenset(),
    "chat_conversations": frozenset(
        {"max_results", "pagination_token", "chat_conversation.fields", "expansions", "user.fields"}
    ),
    "chat_conversation": frozenset({"chat_conversation.fields", "expansions", "user.fields"}),
    "chat_events": frozenset({"max_results", "pagination_token", "chat_message_event.fields"}),
    "chat_send": frozenset(),
    "chat_keys": frozenset(),
    "chat_read": frozenset(),
    "chat_typing": frozenset(),
    "public_keys": frozenset({"public_key.fields"}),
    "add_public_key": frozenset(),
}


def routes() -> list[Route]:
    t_read, u_read, dm_read = {"tweet.read", "users.read"}, {"users.read"}, {"dm.read", "users.read"}
    tweet_write, dm_write = {"tweet.read", "tweet.write", "users.read"}, {"dm.write", "dm.read", "users.read"}
    moderate = {"tweet.moderate.write", "tweet.read", "users.read"}
    none: set[str] = set()
    table: list[tuple[str, str, Handler, bool, bool, set[str], str]] = [
        ("/2/users/me", "users_me", handlers.users_me, True, True, u_read, "GET"),
        ("/2/users/{id}/mentions", "mentions", handlers.mentions, False, True, t_read, "GET"),
        ("/2/users/{id}/tweets", "user_tweets", handlers.user_tweets, False, True, t_read, "GET"),
        ("/2/tweets/search/recent", "search", handlers.search_recent, False, True, t_read, "GET"),
        ("/2/dm_events", "dm_events", handlers.dm_events, True, True, dm_read, "GET"),
        (
            "/2/dm_conversations/with/{participant_id}/dm_events",
            "dm_events",
            handlers.dm_events_with,
            True,
            True,
            dm_read,
            "GET",
        ),
        (
            "/2/dm_conversations/{dm_conversation_id}/dm_events",
            "dm_events",
            handlers.dm_events_by_conversation,
            True,
            True,
            dm_read,
            "GET",
        ),
        ("/2/users/{id}/followers", "followers", handlers.followers, False, True, {"follows.read"}, "GET"),
        ("/2/tweets", "post_tweet", handlers.create_tweet, True, False, tweet_write, "POST"),
        (
            "/2/dm_conversations/with/{participant_id}/messages",
            "post_dm",
            handlers.create_dm,
            True,
            False,
            dm_write,
            "POST",
        ),
        (
            "/2/dm_conversations/{dm_conversation_id}/messages",
            "post_dm",
            handlers.create_dm_in_conversation,
            True,
            False,
            dm_write,
            "POST",
        ),
        ("/2/tweets/{tweet_id}/hidden", "hide_reply", handlers.hide_reply, True, False, moderate, "PUT"),
        # the X Activity API: subscriptions (app or user context; scopes checked per event type)
        (
            "/2/activity/subscriptions",
            "activity_subscriptions",
            xaa.create_subscription,
            False,
            False,
            none,
            "POST",
        ),
        (
            "/2/activity/subscriptions",
            "activity_subscriptions",
            xaa.list_subscriptions,
            False,
            False,
            none,
            "GET",
        ),
        (
            "/2/activity/subscriptions",
            "activity_subscriptions",
            xaa.delete_subscriptions,
            False,
            False,
            none,
            "DELETE",
        ),
        (
            "/2/activity/subscriptions/{subscription_id}",
            "activity_subscription",
            xaa.update_subscription,
            False,
            False,
            none,
            "PUT",
        ),
        (
            "/2/activity/subscriptions/{subscription_id}",
            "activity_subscription",
            xaa.delete_subscription,
            False,
            False,
            none,
            "DELETE",
        ),
        ("/2/webhooks", "webhooks", webhooks.create_webhook, False, False, none, "POST"),
        ("/2/webhooks", "webhooks", webhooks.list_webhooks, False, False, none, "GET"),
        ("/2/webhooks/replay", "webhooks_replay", webhooks.replay, False, False, none, "POST"),
        ("/2/webhooks/{webhook_id}", "webhooks", webhooks.validate_webhook, False, False, none, "PUT"),
        ("/2/webhooks/{webhook_id}", "webhooks", webhooks.delete_webhook, False, False, none, "DELETE"),
        # likes and follows through the API left self-serve tiers on 2026-04-20
        ("/2/users/{id}/likes", "removed", handlers.removed, True, False, none, "POST"),
        ("/2/users/{id}/likes/{tweet_id}", "removed", handlers.removed, True, False, none, "DELETE"),
        ("/2/users/{id}/following", "removed", handlers.removed, True, False, none, "POST"),
        (
            "/2/users/{source_user_id}/following/{target_user_id}",
            "removed",
            handlers.removed,
            True,
            False,
            none,
            "DELETE",
        ),
        *chat_routes(),
    ]
    routes = [
        Route(path, endpoint(key, fn, user_only=user_only, read=read, scopes=scopes), methods=[method])
        for path, key, fn, user_only, read, scopes, method in table
    ]
    stream = endpoint("activity_stream", xaa.activity_stream, user_only=False, read=True, scopes=set())
    return [*routes, Route("/2/activity/stream", app_only(stream), methods=["GET"])]


def app_only(inner: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    """X's stream endpoints take the app's bearer token only."""

    async def run(request: Request) -> Response:
        identity = identify(request.app.state.emulator, request)
        if identity is not None and not identity.app_only:
            return problem(
                403,
                "Unsupported Authentication",
                "Authenticating with OAuth 2.0 User Context is forbidden for this endpoint.  Supported "
                "authentication types are [OAuth 2.0 Application-Only].",
                "unsupported-authentication",
            )
        return await inner(request)

    run.__name__ = "api_activity_stream"
    return run


def chat_routes() -> list[tuple[str, str, Handler, bool, bool, set[str], str]]:
    """X Chat, user context only; scopes as openapi-2.167 lists them per operation."""
    chat_list = {"dm.read", "users.read"}
    chat_read = {"dm.read", "users.read", "tweet.read"}
    chat_write = {"dm.write", "users.read", "tweet.read"}
    h = chat_handlers
    return [
        ("/2/chat/conversations", "chat_conversations", h.list_conversations, True, True, chat_list, "GET"),
        ("/2/chat/conversations/{id}", "chat_conversation", h.get_conversation, True, True, chat_read, "GET"),
        (
            "/2/chat/conversations/{id}/events",
            "chat_events",
            h.conversation_events,
            True,
            True,
            chat_read,
            "GET",
        ),
        ("/2/chat/conversations/{id}/messages", "chat_send", h.send_message, True, False, chat_write, "POST"),
        ("/2/chat/conversations/{id}/keys", "chat_keys", h.add_keys, True, False, chat_write, "POST"),
        ("/2/chat/conversations/{id}/read", "chat_read", h.mark_read, True, False, chat_write, "POST"),
        ("/2/chat/conversations/{id}/typing", "chat_typing", h.typing, True, False, chat_write, "POST"),
        ("/2/users/{id}/public_keys", "public_keys", h.get_public_keys, True, True, chat_read, "GET"),
        ("/2/users/{id}/public_keys", "add_public_key", h.add_public_key, True, False, chat_write, "POST"),
    ]
