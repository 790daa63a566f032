"""The control API under /_emulator/: traffic, faults, ground truth, injection, config and reset."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from flockdesk.emulator import events, strict
from flockdesk.emulator.chat import api_id
from flockdesk.emulator.faults import FaultConfigError
from flockdesk.emulator.http import json_response, problem
from flockdesk.emulator.model import User
from flockdesk.emulator.oauth import OAuthClient
from flockdesk.emulator.scenario import USERNAME_RE, ScenarioError, load_scenario, stable_user_id
from flockdesk.emulator.state import EmulatorState
from flockdesk.emulator.traffic import crowd_users, generate

LOOPBACK = {"127.0.0.1", "::1", "localhost", "testclient"}


class ControlError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def _bad(detail: str, status: int = 400) -> ControlError:
    return ControlError(status, detail)


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise _bad(f"the body is not valid JSON ({exc}); send a JSON object") from exc
    if not isinstance(body, dict):
        raise _bad("the body must be a JSON object")
    return body


def _state(request: Request) -> EmulatorState:
    state: EmulatorState = request.app.state.emulator
    host = request.client.host if request.client else ""
    auth = request.headers.get("authorization", "")
    if host not in LOOPBACK and auth != f"Bearer {state.token}":
        raise ControlError(
            401, "the control API answers loopback clients, or send the user token as a Bearer"
        )
    return state


def _int(body: dict[str, Any], key: str, default: int, lo: int = 0, hi: int = 10**9) -> int:
    value = body.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise _bad(f"`{key}` must be an integer between {lo} and {hi}")
    return value


def _wrap(fn: Any) -> Any:
    async def run(request: Request) -> Response:
        try:
            return json_response(await fn(request))
        except ControlError as exc:
            return problem(exc.status, "Emulator control error", exc.detail, "invalid-request")

    run.__name__ = fn.__name__
    return run


async def traffic(request: Request) -> dict[str, Any]:
    state = _state(request)
    body = await _body(request)
    name = str(body.get("scenario") or state.config.scenario)
    try:
        sc = load_scenario(name)
    except ScenarioError as exc:
        raise _bad(str(exc)) from exc
    messages = _int(body, "messages", 10, 0, 1_000_000)
    seed = _int(body, "seed", state.config.seed, 0, 2**63)
    with state.lock:
        if sc.org.id != state.org.id:
            if state.posts or state.dms:
                raise _bad(
                    f"this emulator acts for @{state.org.username} (scenario {state.scenario_name!r}); "
                    f'POST /_emulator/reset {{"scenario": "{name}"}} first to switch to {name!r}',
                    409,
                )
            state.reset(name)
        state.scenario_name = name
        return generate(state, sc, messages, seed)


async def faults(request: Request) -> dict[str, Any]:
    state = _state(request)
    body = await _body(request)
    rate = body.get("rate", 0)
    if not isinstance(rate, int | float) or isinstance(rate, bool):
        raise _bad("`rate` must be a number between 0 and 1")
    kinds = body.get("kinds")
    if kinds is not None and not isinstance(kinds, list):
        raise _bad("`kinds` must be a list of fault kinds")
    seed = body.get("seed")
    if seed is not None and not isinstance(seed, int):
        raise _bad("`seed` must be an integer")
    with state.lock:
        try:
            state.faults.configure(float(rate), kinds, seed)
        except FaultConfigError as exc:
            raise _bad(str(exc)) from exc
        if "timeout_s" in body:
            state.config.timeout_s = float(body["timeout_s"])
        if any(k in body for k in ("stream_cut_after", "stream_drop_rate", "stream_drop_every_s")):
            # the stream faults are set together: one left out is off
            cut_after = body.get("stream_cut_after")
            drop = body.get("stream_drop_rate", 0.0)
            every = body.get("stream_drop_every_s")
            if cut_after is not None and (not isinstance(cut_after, int) or isinstance(cut_after, bool)):
                raise _bad("`stream_cut_after` must be an integer (events per connection) or null")
            if not isinstance(drop, int | float) or isinstance(drop, bool):
                raise _bad("`stream_drop_rate` must be a number between 0 and 1")
            if every is not None and (not isinstance(every, int | float) or isinstance(every, bool)):
                raise _bad("`stream_drop_every_s` must be a number of seconds or null")
            try:
                state.faults.configure_stream(cut_after, float(drop), None if every is None else float(every))
            except FaultConfigError as exc:
                raise _bad(str(exc)) from exc
        return state.faults.describe()


async def drop_streams(request: Request) -> dict[str, Any]:
    """End every open activity stream now, as X's operational disconnects do; clients reconnect."""
    state = _state(request)
    with state.lock:
        dropped = state.stream_open
        state.stream_generation += 1
        if dropped:
            state.faults.injected["stream_drop"] = state.faults.injected.get("stream_drop", 0) + dropped
    return {"dropped": dropped}


async def stats(request: Request) -> dict[str, Any]:
    state = _state(request)
    out = state.stats()
    if request.query_params.get("billing") in ("1", "true"):
        out["billing"] = state.billing.snapshot()
    return out


async def requests(request: Request) -> dict[str, Any]:
    state = _state(request)
    with state.lock:
        return {"requests": list(state.requests)}


async def sent(request: Request) -> dict[str, Any]:
    state = _state(request)
    with state.lock:
        return {"sent": [s.as_json() for s in state.sent]}


async def truth(request: Request) -> dict[str, Any]:
    state = _state(request)
    with state.lock:
        posts = [
            {
                "id": str(p.id),
                "kind": p.kind,
                "text": p.text,
                "author_id": p.author_id,
                "author_username": state.users[p.author_id].username,
                "conversation_id": str(p.conversation_id),
                "in_reply_to_tweet_id": str(p.in_reply_to_tweet_id) if p.in_reply_to_tweet_id else None,
                "retweeted_id": str(p.retweeted_id) if p.retweeted_id else None,
                "created_at": p.created_at,
                "from_org": p.from_org,
                "sent_by_client": p.sent_by_client,
                "mentions_org": state.org.username.lower() in p.mentions and p.retweeted_id is None,
                "hidden": p.id in state.hidden,
            }
            for p in (state.posts[i] for i in state.post_ids)
        ]
        dms = [
            {
                "id": str(e.id),
                "kind": e.kind,
                "text": e.text,
                "author_id": e.sender_id,
                "sender_id": e.sender_id,
                "recipient_id": e.recipient_id,
                "dm_conversation_id": e.dm_conversation_id,
                "created_at": e.created_at,
                "from_org": e.from_org,
                "sent_by_client": e.sent_by_client,
                "opt_out": e.opt_out,
            }
            for e in (state.dms[i] for i in state.dm_ids)
        ]
        return {
            "org": {"id": state.org.id, "username": state.org.username},
            "posts": posts,
            "dms": dms,
            "chats": _chat_truth(state),
            "chat_conversations": [
                {
                    "id": api_id(v.id),
                    "participant_ids": list(v.participants),
                    "group": v.is_group,
                    "key_versions": sorted(v.key_changes, key=int),
                    "latest_key_version": v.latest_key,
                    "org_seen_until": v.seen_until.get(state.org.id),
                    "typing": v.typing,
                }
                for v in state.chat.conversations.values()
            ],
            "org_public_key_versions": [k.version for k in state.chat.keys.get(state.org.id, [])],
        }


def _chat_truth(state: EmulatorState) -> list[dict[str, Any]]:
    """Every X Chat message with its plaintext (the customers' side of the encryption)."""
    out = []
    for seq in sorted(state.chat.events):
        e = state.chat.events[seq]
        if e.kind != "message":
            continue
        conv = state.chat.conversations[e.conversation_id]
        out.append(
            {
                "id": str(e.sequence_id),
                "message_id": e.message_id,
                "kind": "org_chat" if e.from_org else "chat",
                "text": e.text,
                "quick_reply": e.quick_reply,
                "author_id": e.sender_id,
                "sender_id": e.sender_id,
                "conversation_id": api_id(e.conversation_id),
                "participant_ids": list(conv.participants),
                "key_version": e.key_version,
                "created_at": e.created_at,
                "from_org": e.from_org,
                "sent_by_client": e.sent_by_client,
                "garbled": e.garbled,
                "readable": e.readable,
                "problem": e.problem,
            }
        )
    return out


async def config(request: Request) -> dict[str, Any]:
    state = _state(request)
    body = await _body(request)
    cfg = state.config
    with state.lock:
        if "speedup" in body:
            speedup = body["speedup"]
            if not isinstance(speedup, int | float) or speedup <= 0:
                raise _bad("`speedup` must be a positive number (900 makes a 15-minute window last 1 s)")
            cfg.speedup = float(speedup)
            state.limiter.speedup = cfg.speedup
            state.limiter.reset_all()
        if "mentions_window" in body:
            cfg.mentions_window = _int(body, "mentions_window", 800, 1)
        if "reply_restriction" in body:
            cfg.reply_restriction = bool(body["reply_restriction"])
        if "timeout_s" in body:
            cfg.timeout_s = float(body["timeout_s"])
        if "oauth_auto_approve" in body:
            cfg.oauth_auto_approve = bool(body["oauth_auto_approve"])
        if "reject_duplicates" in body:
            cfg.reject_duplicates = bool(body["reject_duplicates"])
        if "token_ttl_s" in body:
            cfg.token_ttl_s = _int(body, "token_ttl_s", 7200, 1)
        for flag in ("dm_restriction", "quote_restriction"):
            if flag in body:
                setattr(cfg, flag, bool(body[flag]))
        if "subscription_limit" in body:
            cfg.subscription_limit = _int(body, "subscription_limit", 1500, 0)
        if "stream_keepalive_s" in body:
            keepalive = body["stream_keepalive_s"]
            if not isinstance(keepalive, int | float) or keepalive <= 0:
                raise _bad("`stream_keepalive_s` must be a positive number of seconds")
            cfg.stream_keepalive_s = float(keepalive)
        if "strict_spec" in body or "spec_dir" in body:
            version = body.get("strict_spec", cfg.strict_spec)
            spec_dir = body.get("spec_dir", cfg.spec_dir)
            if version is not None:
                try:
                    strict.load(str(version), None if spec_dir is None else str(spec_dir))
                except (strict.StrictSpecError, ValueError) as exc:
                    raise _bad(str(exc)) from exc
            cfg.strict_spec = None if version is None else str(version)
            cfg.spec_dir = None if spec_dir is None else str(spec_dir)
        return {k: v for k, v in cfg.__dict__.items() if k not in ("token", "app_bearer")}


async def reset(request: Request) -> dict[str, Any]:
    state = _state(request)
    body = await _body(request)
    name = body.get("scenario")
    if name is not None:
        try:
            load_scenario(str(name))
        except ScenarioError as exc:
            raise _bad(str(exc)) from exc
    state.reset(str(name) if name else None)
    state.faults.configure(0.0, None, None)
    state.faults.configure_stream(None, 0.0)
    return {
        "reset": True,
        "scenario": state.config.scenario,
        "org": {"id": state.org.id, "username": state.org.username},
    }


def _author(state: EmulatorState, raw: Any) -> User:
    if isinstance(raw, str):
        raw = {"username": raw.lstrip("@")}
    if not isinstance(raw, dict) or not isinstance(raw.get("username"), str) or not raw["username"]:
        raise _bad('`author` must be a username or {"username", "name", ...}')
    if not USERNAME_RE.match(raw["username"].lstrip("@")):
        raise _bad(f"username {raw['username']!r} must be 1-15 letters, digits or _")
    existing = state.user_by_username(raw["username"])
    if existing is not None:
        return existing
    return state.add_user(
        User(
            id=str(raw.get("id") or stable_user_id("injected", raw["username"])),
            username=raw["username"].lstrip("@"),
            name=str(raw.get("name") or raw["username"]),
            description=str(raw.get("description", "")),
            followers_count=int(raw.get("followers_count", 10)),
            verified=bool(raw.get("verified", False)),
        )
    )


async def inject(request: Request) -> dict[str, Any]:
    state = _state(request)
    body = await _body(request)
    text = body.get("text")
    if not isinstance(text, str) or not text:
        raise _bad("`text` is required")
    with state.lock:
        author = _author(state, body.get("author", "injected_user"))
        if body.get("dm"):
            to = body.get("to")
            recipient = state.org if to is None else _author(state, to)
            sender = author
            if body.get("from_org"):
                sender, recipient = state.org, author
            if sender.id == recipient.id:
                raise _bad("a DM needs two different users")
            event = state.add_dm(
                sender.id,
                recipient.id,
                text,
                "org_dm" if sender.id == state.org.id else "dm",
                opt_out=bool(body.get("opt_out")),
            )
            return {"id": str(event.id), "kind": event.kind, "dm_conversation_id": event.dm_conversation_id}
        parent = body.get("in_reply_to")
        parent_id = int(parent) if parent is not None and str(parent).isdigit() else None
        if parent is not None and parent_id not in state.posts:
            raise _bad(f"`in_reply_to` {parent} is not a post the emulator holds", 404)
        rt = body.get("retweet_of")
        rt_id = int(rt) if rt is not None and str(rt).isdigit() and int(rt) in state.posts else None
        if body.get("from_org"):
            author = state.org
        kind = str(body.get("kind") or _infer_kind(state, author, text, parent_id, rt_id))
        post = state.add_post(author.id, text, kind, in_reply_to=parent_id, retweet_of=rt_id)
        return {
            "id": str(post.id),
            "kind": post.kind,
            "conversation_id": str(post.conversation_id),
            "author_id": author.id,
        }


def _infer_kind(state: EmulatorState, author: User, text: str, parent: int | None, rt: int | None) -> str:
    if author.id == state.org.id:
        return "org_reply" if parent else "org_post"
    if rt is not None:
        return "retweet"
    if parent is not None:
        return "reply"
    if f"@{state.org.username}".lower() in text.lower():
        return "mention"
    return "hashtag" if "#" in text else "name"


async def followers(request: Request) -> dict[str, Any]:
    state = _state(request)
    body = await _body(request)
    users = body.get("users")
    if users is None:
        count = _int(body, "count", 1, 0, 100_000)
        with state.lock:
            crowd = crowd_users(state, load_scenario(state.config.scenario), count, len(state.followers))
            added = [u.id for u in crowd if state.follow(u.id)]
        return {"added": added, "followers": len(state.followers)}
    if not isinstance(users, list):
        raise _bad("`users` must be a list of usernames or user objects")
    with state.lock:
        added = [u.id for u in (_author(state, raw) for raw in users) if state.follow(u.id)]
    return {"added": added, "followers": len(state.followers)}


async def unfollow(request: Request) -> dict[str, Any]:
    state = _state(request)
    body = await _body(request)
    users = body.get("users")
    with state.lock:
        if users is None:
            count = _int(body, "count", 1, 0, 100_000)
            chosen = list(state.followers[-count:]) if count else []
        elif isinstance(users, list):
            chosen = [_author(state, raw).id for raw in users]
        else:
            raise _bad("`users` must be a list of usernames or user objects")
        removed = [uid for uid in chosen if state.unfollow(uid)]
    return {"removed": removed, "followers": len(state.followers)}


async def revoke(request: Request) -> dict[str, Any]:
    """The org revokes the app: its tokens stop working and `oauth.revoke` is emitted; `{"undo": true}`
    gives the user token back (a reconnect)."""
    state = _state(request)
    body = await _body(request)
    with state.lock:
        if body.get("undo"):
            state.user_token_revoked = False
            return {"revoked": False}
        state.user_token_revoked = True
        state.oauth.access.clear()
        state.oauth.refresh.clear()
        events.emit_revoke(state)
    return {"revoked": True}


async def oauth_client(request: Request) -> dict[str, Any]:
    state = _state(request)
    body = await _body(request)
    cid = body.get("client_id")
    if not isinstance(cid, str) or not cid:
        raise _bad("`client_id` is required")
    uris = body.get("redirect_uris") or []
    with state.lock:
        state.oauth.register(OAuthClient(cid, body.get("client_secret"), list(uris)))
    return {"client_id": cid, "redirect_uris": uris}


def routes() -> list[Route]:
    return [
        Route("/_emulator/traffic", _wrap(traffic), methods=["POST"]),
        Route("/_emulator/faults", _wrap(faults), methods=["POST"]),
        Route("/_emulator/streams/drop", _wrap(drop_streams), methods=["POST"]),
        Route("/_emulator/stats", _wrap(stats), methods=["GET"]),
        Route("/_emulator/sent", _wrap(sent), methods=["GET"]),
        Route("/_emulator/requests", _wrap(requests), methods=["GET"]),
        Route("/_emulator/truth", _wrap(truth), methods=["GET"]),
        Route("/_emulator/config", _wrap(config), methods=["POST"]),
        Route("/_emulator/reset", _wrap(reset), methods=["POST"]),
        Route("/_emulator/post", _wrap(inject), methods=["POST"]),
        Route("/_emulator/followers", _wrap(followers), methods=["POST"]),
        Route("/_emulator/unfollow", _wrap(unfollow), methods=["POST"]),
        Route("/_emulator/revoke", _wrap(revoke), methods=["POST"]),
        Route("/_emulator/oauth/clients", _wrap(oauth_client), methods=["POST"]),
    ]
