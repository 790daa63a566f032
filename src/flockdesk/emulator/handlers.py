"""Handlers for the X API v2 endpoints; each runs under the state's lock and returns (status, body)."""

from __future__ import annotations

import re
import time
import warnings
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flockdesk.emulator import billing
from flockdesk.emulator import render as r
from flockdesk.emulator.http import ApiError
from flockdesk.emulator.ids import id_for_time
from flockdesk.emulator.model import dm_conversation_id
from flockdesk.emulator.query import QueryError, compile_query
from flockdesk.emulator.state import SentRecord, scan_desc

with warnings.catch_warnings():
    # twitter-text-parser 3.0 loads its emoji table through pkg_resources (deprecated, still works)
    warnings.simplefilter("ignore", UserWarning)
    warnings.simplefilter("ignore", DeprecationWarning)
    from twitter_text import parse_tweet

if TYPE_CHECKING:
    from flockdesk.emulator.api import Ctx

ID_RE = re.compile(r"^[0-9]{1,19}$")
DEEP_LINK_RE = re.compile(r"^https://(x|twitter)\.com/messages/compose\?recipient_id=[0-9]{1,19}(&\S*)?$")


def _int_param(ctx: Ctx, name: str, lo: int, hi: int, default: int) -> int:
    raw = ctx.params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not lo <= int(raw) <= hi:
        raise r.ParamError(name, f"The `{name}` query parameter value [{raw}] is not between {lo} and {hi}")
    return int(raw)


def _id_param(ctx: Ctx, name: str) -> int | None:
    raw = ctx.params.get(name)
    if raw is None:
        return None
    if not ID_RE.match(raw):
        raise r.ParamError(name, f"The `{name}` query parameter value [{raw}] does not match ^[0-9]{{1,19}}$")
    return int(raw)


def _time_param(ctx: Ctx, name: str) -> int | None:
    raw = ctx.params.get(name)
    if raw is None:
        return None
    try:
        dt = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise r.ParamError(
            name, f"The `{name}` query parameter value [{raw}] is not an ISO 8601 date-time"
        ) from exc
    return id_for_time(int(dt.timestamp() * 1000))


def _token(ctx: Ctx, kind: str, names: tuple[str, ...]) -> int | None:
    for name in names:
        raw = ctx.params.get(name)
        if raw is not None:
            return r.decode_token(kind, raw, name)
    return None


def _tweet_fields(ctx: Ctx) -> tuple[set[str], set[str], set[str]]:
    tf = r.parse_list(ctx.params, ("tweet.fields", "post.fields"), r.TWEET_FIELDS | set(r.POST_FIELD_ALIASES))
    if "post.fields" in ctx.params:
        tf.add(r.POST_NAMES)
    raw_ex = r.parse_list(ctx.params, ("expansions",), r.TWEET_EXPANSIONS, aliases={})
    if raw_ex & r.POST_ONLY_EXPANSIONS:  # 2.167 names: answer with the post names too
        tf.add(r.POST_NAMES)
    ex = {r.EXPANSION_ALIASES.get(e, e) for e in raw_ex}
    tf |= {field for e, field in r.EXPANSION_FIELDS.items() if e in ex}  # an expansion implies its id field
    uf = r.parse_list(ctx.params, ("user.fields",), r.USER_FIELDS)
    return tf, ex, uf


def _tweet_list(
    ctx: Ctx,
    ids: list[int],
    keep: Callable[[int], bool],
    lower: int | None,
    kind: str,
    limits: tuple[int, int, int],
    token_names: tuple[str, ...],
) -> dict[str, Any]:
    lo, hi, default = limits
    max_results = _int_param(ctx, "max_results", lo, hi, default)
    tf, ex, uf = _tweet_fields(ctx)
    since = _id_param(ctx, "since_id")
    until = _id_param(ctx, "until_id")
    start, end = _time_param(ctx, "start_time"), _time_param(ctx, "end_time")
    anchor = _token(ctx, kind, token_names)
    uppers = [x for x in (until, anchor, end) if x is not None]
    upper = min(uppers) if uppers else None
    lowers = [x for x in (since, lower, start - 1 if start is not None else None) if x is not None]
    lower_b = max(lowers) if lowers else None
    found = list(scan_desc(ids, upper, lower_b, keep, max_results + 1))
    page, more = found[:max_results], len(found) > max_results
    if not page:
        return {"meta": {"result_count": 0}}
    posts = [ctx.state.posts[i] for i in page]
    meta: dict[str, Any] = {"result_count": len(page), "newest_id": str(page[0]), "oldest_id": str(page[-1])}
    if more:
        meta["next_token"] = r.encode_token(kind, page[-1])
    if ctx.fault == "duplicate_page":
        meta["next_token"] = r.encode_token(kind, upper if upper is not None else page[0] + 1)
    if ctx.fault == "out_of_order":
        ctx.state.faults.shuffle(posts)  # type: ignore[arg-type]
    body: dict[str, Any] = {"data": [r.tweet_json(p, tf) for p in posts]}
    includes = r.tweet_includes(ctx.state, posts, ex, uf, tf)
    if includes:
        body["includes"] = includes
    body["meta"] = meta
    return body


def users_me(ctx: Ctx) -> tuple[int, dict[str, Any]]:
    uf = r.parse_list(ctx.params, ("user.fields",), r.USER_FIELDS)
    r.parse_list(ctx.params, ("expansions",), r.USER_EXPANSIONS)
    return 200, {"data": r.user_json(ctx.state.org, uf)}


def mentions(ctx: Ctx) -> tuple[int, dict[str, Any]]:
    uid = ctx.path["id"]
    if not ID_RE.match(uid):
        raise r.ParamError("id", f"The `id` path parameter value [{uid}] does not match ^[0-9]{{1,19}}$")
    if uid not in ctx.state.users:
        raise ApiError(
            404,
            "Not Found Error",
            f"Could not find user with id: [{uid}].",
            "resource-not-found",
            resource_type="user",
            resource_id=uid,
            parameter="id",
            value=uid,
        )
    ids = ctx.state.mentions.get(uid, [])
    window = ctx.state.config.mentions_window
    lower = ids[-window - 1] if len(ids) > window else None
    return 200, _tweet_list(ctx, ids, lambda _i: True, lower, "m", (5, 100, 10), ("pagination_token",))


def _known_user(ctx: Ctx) -> str:
    uid = ctx.path["id"]
    if not ID_RE.match(uid):
        raise r.ParamError("id", f"The `id` path parameter value [{uid}] does not match ^[0-9]{{1,19}}$")
    if uid not in ctx.state.users:
        raise ApiError(
            404,
            "Not Found Error",
            f"Could not find user with id: [{uid}].",
            "resource-not-found",
            resource_type="user",
            resource_id=uid,
            parameter="id",
            value=uid,
        )
    return uid


def user_tweets(ctx: Ctx) -> tuple[int, dict[str, Any]]:
    """GET /2/users/:id/tweets: the user's own posts, newest first (X reaches back 3,200 posts)."""
    uid = _known_user(ctx)
    exclude = r.parse_list(ctx.params, ("exclude",), {"replies", "retweets"})
    posts = ctx.state.posts

    def keep(i: int) -> bool:
        p = posts[i]
        if "replies" in exclude and p.in_reply_to_tweet_id is not None:
            return False
        return not ("retweets" in exclude and p.retweeted_id is not None)

    ids = ctx.state.by_author.get(uid, [])
    lower = ids[-3201] if len(ids) > 3200 else None
    return 200, _tweet_list(ctx, ids, keep, lower, "u", (5, 100, 10), ("pagination_token",))


def search_recent(ctx: Ctx) -> tuple[int, dict[str, Any]]:
    query = ctx.params.get("query")
    if query is None:
        raise r.ParamError("query", "The `query` query parameter can not be empty")
    try:
        matcher = compile_query(query)
    except QueryError as exc:
        raise r.ParamError("query", f"There were errors processing your request: {exc}") from exc
    posts = ctx.state.posts
    lower = id_for_time(int((time.time() - ctx.state.config.search_days * 86400) * 1000))
    return 200, _tweet_list(
        ctx,
        ctx.state.post_ids,
        lambda i: matcher(posts[i]),
        lower,
        "s",
        (10, 100, 10),
        ("next_token", "pagination_token"),
    )


def _dm_list(ctx: Ctx, ids: list[int], kind: str) -> dict[str, Any]:
    max_results = _int_param(ctx, "max_results", 1, 100, 100)
    fields = r.parse_list(ctx.params, ("dm_event.fields",), r.DM_FIELDS)
    ex = r.parse_list(ctx.params, ("expansions",), r.DM_EXPANSIONS)
    fields |= ex & {"sender_id"}  # 2.167 has no sender_id field: the expansion brings it
    uf = r.parse_list(ctx.params, ("user.fields",), r.USER_FIELDS)
    r.parse_list(ctx.params, ("tweet.fields", "post.fields"), r.TWEET_FIELDS | set(r.POST_FIELD_ALIASES))
    types = ctx.params.get("event_types")
    if types is not None:
        chosen = {t.strip() for t in types.split(",") if t.strip()}
        bad = chosen - {"MessageCreate", "ParticipantsJoin", "ParticipantsLeave"}
        if bad:
            raise r.ParamError(
                "event_types",
                f"The `event_types` value [{sorted(bad)[0]}] is not one of "
                "[MessageCreate, ParticipantsJoin, ParticipantsLeave]",
            )
        if "MessageCreate" not in chosen:
            return {"meta": {"result_count": 0}}
    anchor = _token(ctx, kind, ("pagination_token",))
    found = list(scan_desc(ids, anchor, None, lambda _i: True, max_results + 1))
    page, more = found[:max_results], len(found) > max_results
    if not page:
        return {"meta": {"result_count": 0}}
    events = [ctx.state.dms[i] for i in page]
    meta: dict[str, Any] = {"result_count": len(page)}
    if more:
        meta["next_token"] = r.encode_token(kind, page[-1])
    if ctx.fault == "duplicate_page":
        meta["next_token"] = r.encode_token(kind, anchor if anchor is not None else page[0] + 1)
    if ctx.fault == "out_of_order":
        ctx.state.faults.shuffle(events)  # type: ignore[arg-type]
    body: dict[str, Any] = {"data": [r.dm_json(e, fields) for e in events]}
    includes = r.dm_includes(ctx.state, events, ex, uf)
    if includes:
        body["includes"] = includes
    body["meta"] = meta
    return body


def dm_events(ctx: Ctx) -> tuple[int, dict[str, Any]]:
    return 200, _dm_list(ctx, ctx.state.dm_ids, "d")


def dm_events_with(ctx: Ctx) -> tuple[int, dict[str, Any]]:
    pid = ctx.path["participant_id"]
    if not ID_RE.match(pid):
        raise r.ParamError(
            "participant_id", f"The `participant_id` value [{pid}] does not match ^[0-9]{{1,19}}$"
        )

    conv = dm_conversation_id(ctx.state.org.id, pid)
    return 200, _dm_list(ctx, ctx.state.dm_by_conv.get(conv, []), "c" + pid)


CONV_RE = re.compile(r"^([0-9]{1,19})-([0-9]{1,19})$")


def _other_participant(ctx: Ctx) -> str:
    conv = ctx.path["dm_conversation_id"]
    m = CONV_RE.match(conv)
    if m is None or ctx.state.org.id not in m.groups():
        raise ApiError(
            404, "Not Found Error", f"Could not find DM conversation with id: [{conv}].", "resource-not-found"
        )
    a, b = m.groups()
    return b if a == ctx.state.org.id else a


def dm_events_by_conversation(ctx: Ctx) -> tuple[int, dict[str, Any]]:
    pid = _other_participant(ctx)
    conv = ctx.path["dm_conversation_id"]
    return 200, _dm_list(ctx, ctx.state.dm_by_conv.get(conv, []), "c" + pid)


def create_dm_in_conversation(ctx: Ctx) -> tuple[int, dict[str, Any]]:
    ctx.path["participant_id"] = _other_participant(ctx)
    return create_dm(ctx)


def followers(ctx: Ctx) -> tuple[int, dict[str, Any]]:
    uid = ctx.path["id"]
    if uid not in ctx.state.users:
        raise ApiError(404, "Not Found Error", f"Could not find user with id: [{uid}].", "resource-not-found")
    max_results = _int_param(ctx, "max_results", 1, 1000, 100)
    uf = r.parse_list(ctx.params, ("user.fields",), r.USER_FIELDS)
    r.parse_list(ctx.params, ("expansions",), r.USER_EXPANSIONS)
    ids = ctx.state.followers if uid == ctx.state.org.id else []
    start = _token(ctx, "f", ("pagination_token",)) or len(ids)  # index, newest follower first
    page_idx = list(range(min(start, len(ids)) - 1, -1, -1))[:max_results]
    if not page_idx:
        return 200, {"meta": {"result_count": 0}}
    meta: dict[str, Any] = {"result_count": len(page_idx)}
    if page_idx[-1] > 0:
        meta["next_token"] = r.encode_token("f", page_idx[-1])
    users = [ctx.state.users[ids[i]] for i in page_idx]
    return 200, {"data": [r.user_json(u, uf) for u in users], "meta": meta}


def _weighted_length(text: str) -> tuple[int, bool]:
    parsed = parse_tweet(text)
    return parsed.weightedLength, parsed.valid


def create_tweet(ctx: Ctx) -> tuple[int, dict[str, Any]]:
    body, state = ctx.body, ctx.state
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ApiError(
            400, "Invalid Request", "The `text` field is required and must not be empty.", "invalid-request"
        )
    length, valid = _weighted_length(text)
    if not valid:
        raise ApiError(
            400,
            "Invalid Request",
            f"The text is {length} weighted characters; a post may have at most 280.",
            "invalid-request",
        )
    deep_link = body.get("direct_message_deep_link")
    if deep_link is not None and (not isinstance(deep_link, str) or not DEEP_LINK_RE.match(deep_link)):
        raise ApiError(
            400,
            "Invalid Request",
            "`direct_message_deep_link` must look like https://x.com/messages/compose?recipient_id=ID",
            "invalid-request",
        )
    reply = body.get("reply") or {}
    parent_id = reply.get("in_reply_to_tweet_id") if isinstance(reply, dict) else None
    parent = None
    if parent_id is not None:
        if not isinstance(parent_id, str) or not ID_RE.match(parent_id) or int(parent_id) not in state.posts:
            raise ApiError(
                400,
                "Invalid Request",
                f"The post you are replying to ({parent_id}) does not exist or is not visible to you.",
                "invalid-request",
            )
        parent = state.posts[int(parent_id)]
        if state.config.reply_restriction and not _summoned(ctx, parent):
            raise ApiError(
                403,
                "Forbidden",
                "Reply to this conversation is not allowed because you have not been mentioned or "
                "otherwise engaged by the author of the post you are replying to.",
                "client-forbidden",
                reason="reply-not-summoned",
            )
    if state.config.reject_duplicates and text in state.org_texts:
        raise ApiError(403, "Forbidden", "You are not allowed to create a Tweet with duplicate content.")
    quote = body.get("quote_tweet_id")
    if quote is not None and state.config.quote_restriction:
        raise ApiError(
            403,
            "Forbidden",
            "Quote posts through the API are not available on self-serve tiers (since 2026-04-20); "
            "quote the post on X itself.",
            "client-forbidden",
            reason="quote-not-available",
        )
    quote_id = (
        int(quote) if isinstance(quote, str) and ID_RE.match(quote) and int(quote) in state.posts else None
    )
    post = state.add_post(
        state.org.id,
        text,
        "org_reply" if parent else "org_post",
        in_reply_to=parent.id if parent else None,
        quote_of=quote_id,
        sent_by_client=True,
        deep_link=deep_link,
    )
    if parent is not None and post.conversation_id in state.posts:
        state.traffic_cursor.org_threads.append(post.conversation_id)
    summoned = parent is not None and parent.author_id != state.org.id and _summoned(ctx, parent)
    billing.charge_post_create(state.billing, post.id, text, summoned)
    state.sent.append(
        SentRecord(
            id=str(post.id),
            kind="post",
            text=text,
            created_at=post.created_at,
            in_reply_to_tweet_id=str(parent.id) if parent else None,
            direct_message_deep_link=deep_link,
        )
    )
    return 201, {"data": {"id": str(post.id), "text": text}}


def _summoned(ctx: Ctx, parent: Any) -> bool:
    state = ctx.state
    if parent.author_id == state.org.id:
        return True
    if state.org.username.lower() in parent.mentions or parent.in_reply_to_user_id == state.org.id:
        return True
    quoted = state.posts.get(parent.quoted_id) if parent.quoted_id else None
    return quoted is not None and quoted.author_id == state.org.id


def create_dm(ctx: Ctx) -> tuple[int, dict[str, Any]]:
    state, body = ctx.state, ctx.body
    pid = ctx.path["participant_id"]
    if not ID_RE.match(pid):
        raise ApiError(
            400, "Invalid Request", f"`participant_id` [{pid}] is not a user id.", "invalid-request"
        )
    if pid == state.org.id:
        raise ApiError(
            400, "Invalid Request", "You cannot send a Direct Message to yourself.", "invalid-request"
        )
    if pid not in state.users:
        raise ApiError(404, "Not Found Error", f"Could not find user with id: [{pid}].", "resource-not-found")
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ApiError(
            400, "Invalid Request", "The `text` field is required and must not be empty.", "invalid-request"
        )
    if len(text) > 10000:
        raise ApiError(
            400, "Invalid Request", "A Direct Message may have at most 10,000 characters.", "invalid-request"
        )
    if state.config.dm_restriction and pid not in state.dm_openers:
        raise ApiError(
            403,
            "Forbidden",
            "You cannot send a Direct Message to this user: apps may only message people who sent your "
            "account a Direct Message first.",
            "client-forbidden",
            reason="dm-not-initiated-by-recipient",
        )
    event = state.add_dm(state.org.id, pid, text, "org_dm", sent_by_client=True)
    billing.charge_dm_create(state.billing, event.id)
    state.sent.append(
        SentRecord(
            id=str(event.id),
            kind="dm",
            text=text,
            created_at=event.created_at,
            recipient_id=pid,
            dm_conversation_id=event.dm_conversation_id,
        )
    )
    return 201, {"data": {"dm_conversation_id": event.dm_conversation_id, "dm_event_id": str(event.id)}}


def hide_reply(ctx: Ctx) -> tuple[int, dict[str, Any]]:
    """PUT /2/tweets/:tweet_id/hidden: hide or unhide a reply in a conversation the org started."""
    state, body = ctx.state, ctx.body
    tid = ctx.path["tweet_id"]
    if not ID_RE.match(tid):
        raise r.ParamError(
            "tweet_id", f"The `tweet_id` path parameter value [{tid}] does not match ^[0-9]{{1,19}}$"
        )
    hidden = body.get("hidden") if isinstance(body, dict) else None
    if not isinstance(hidden, bool):
        raise ApiError(
            400,
            "Invalid Request",
            "The `hidden` field is required and must be true or false.",
            "invalid-request",
        )
    post = state.posts.get(int(tid))
    if post is None:
        raise ApiError(
            404,
            "Not Found Error",
            f"Could not find tweet with id: [{tid}].",
            "resource-not-found",
            resource_type="tweet",
            resource_id=tid,
            parameter="tweet_id",
            value=tid,
        )
    root = state.posts.get(post.conversation_id)
    if (
        post.in_reply_to_tweet_id is None
        or post.author_id == state.org.id
        or root is None
        or root.author_id != state.org.id
    ):
        raise ApiError(
            403,
            "Forbidden",
            "You can only hide or unhide replies to conversations you started.",
            "client-forbidden",
            reason="not-conversation-owner",
        )
    if hidden:
        state.hidden.add(post.id)
    else:
        state.hidden.discard(post.id)
    return 200, {"data": {"hidden": hidden}}


def removed(ctx: Ctx) -> tuple[int, dict[str, Any]]:
    """Likes and follows through the API: removed from self-serve tiers on 2026-04-20."""
    raise ApiError(
        403,
        "Forbidden",
        "Likes and follows through the API are not available on self-serve tiers (since 2026-04-20); "
        "like or follow on X itself.",
        "client-forbidden",
        reason="endpoint-not-available",
    )
