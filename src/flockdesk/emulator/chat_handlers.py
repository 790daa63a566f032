"""Handlers for the X Chat endpoints (`/2/chat/...`, `/2/users/:id/public_keys`), shaped by openapi-2.167.

Each runs under the state's lock and returns (status, body), like the handlers in handlers.py.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from flockdesk.emulator import chat as c
from flockdesk.emulator import render as r
from flockdesk.emulator.http import ApiError
from flockdesk.emulator.ids import created_at
from flockdesk.emulator.state import SentRecord

if TYPE_CHECKING:
    from flockdesk.emulator.api import Ctx

ID_RE = re.compile(r"^[0-9]{1,19}$")
PAIR_RE = re.compile(r"^([0-9]{1,19})-([0-9]{1,19})$")
GROUP_RE = re.compile(r"^g[0-9]{1,19}$")
CONVERSATION_FIELDS = {
    "created_at",
    "group_avatar_url",
    "group_name",
    "id",
    "is_muted",
    "message_ttl_ms",
    "screen_capture_blocking_enabled",
    "screen_capture_detection_enabled",
    "type",
    "updated_at",
}
CONVERSATION_EXPANSIONS = {"admin_ids", "member_ids", "participant_ids"}
EVENT_FIELDS = {
    "conversation_id",
    "conversation_token",
    "created_at",
    "encoded_event",
    "id",
    "is_trusted",
    "message_event_signature",
    "previous_id",
    "sender_id",
}
DEFAULT_EVENT_FIELDS = {"id", "conversation_id", "created_at", "encoded_event", "sender_id"}
PUBLIC_KEY_FIELDS = {
    "identity_public_key_signature",
    "juicebox_config",
    "public_key",
    "public_key_version",
    "signing_public_key",
}


def _bad(detail: str, reason: str | None = None) -> ApiError:
    extra: dict[str, Any] = {"reason": reason} if reason else {}
    return ApiError(400, "Invalid Request", detail, "invalid-request", **extra)


def _not_found(conv_id: str) -> ApiError:
    return ApiError(
        404,
        "Not Found Error",
        f"Could not find chat conversation with id: [{conv_id}].",
        "resource-not-found",
        resource_type="chat_conversation",
        resource_id=conv_id,
        parameter="id",
        value=conv_id,
    )


def _canonical(ctx: Ctx) -> str:
    """The path id (recipient user id, `a-b`, or `g…`) as the canonical conversation id."""
    raw = ctx.path["id"]
    org = ctx.state.org.id
    if ID_RE.match(raw):
        if raw == org:
            raise r.ParamError(
                "id", "For a 1:1 conversation give the other participant's user id, not your own"
            )
        return c.one_to_one_id(org, raw)
    pair = PAIR_RE.match(raw)
    if pair:
        return c.one_to_one_id(pair.group(1), pair.group(2))
    if GROUP_RE.match(raw):
        return raw
    raise r.ParamError(
        "id",
        f"The `id` path parameter value [{raw}] does not match "
        "^([0-9]{1,19}|[0-9]{1,19}-[0-9]{1,19}|g[0-9]{1,19})$",
    )


def _conversation(ctx: Ctx) -> c.ChatConversation:
    conv_id = _canonical(ctx)
    conv = ctx.state.chat.conversations.get(conv_id)
    if conv is None or ctx.state.org.id not in conv.participants:
        raise _not_found(c.api_id(conv_id))
    return conv


def _int_param(ctx: Ctx, name: str, lo: int, hi: int, default: int) -> int:
    raw = ctx.params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not lo <= int(raw) <= hi:
        raise r.ParamError(name, f"The `{name}` query parameter value [{raw}] is not between {lo} and {hi}")
    return int(raw)


def _conversation_json(ctx: Ctx, conv: c.ChatConversation, fields: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": c.api_id(conv.id), "type": "group" if conv.is_group else "one_to_one"}
    if conv.is_group:
        out["member_ids"] = list(conv.participants)
        out["admin_ids"] = list(conv.admins)
        if "group_name" in fields and conv.group_name:
            out["group_name"] = conv.group_name
    else:
        out["participant_ids"] = list(conv.participants)
    if "created_at" in fields:
        out["created_at"] = created_at(conv.created_seq)
    if "updated_at" in fields:
        out["updated_at"] = created_at(conv.updated_seq)
    if "is_muted" in fields:
        out["is_muted"] = False
    return out


def _conversation_includes(ctx: Ctx, convs: list[c.ChatConversation], ex: set[str]) -> dict[str, Any]:
    if not ex:
        return {}
    uf = r.parse_list(ctx.params, ("user.fields",), r.USER_FIELDS)
    seen: dict[str, dict[str, Any]] = {}
    for conv in convs:
        ids: list[str] = []
        if "participant_ids" in ex or "member_ids" in ex:
            ids += conv.participants
        if "admin_ids" in ex:
            ids += conv.admins
        for uid in ids:
            user = ctx.state.users.get(uid)
            if user is not None and uid not in seen:
                seen[uid] = r.user_json(user, uf)
    return {"users": list(seen.values())} if seen else {}


# -- conversations ---------------------------------------------------------------------------------
def list_conversations(ctx: Ctx) -> tuple[int, dict[str, Any]]:
    """GET /2/chat/conversations: the org's conversations, most recently active first."""
    max_results = _int_param(ctx, "max_results", 1, 100, 10)
    fields = r.parse_list(ctx.params, ("chat_conversation.fields",), CONVERSATION_FIELDS)
    ex = r.parse_list(ctx.params, ("expansions",), CONVERSATION_EXPANSIONS)
    r.parse_list(ctx.params, ("user.fields",), r.USER_FIELDS)
    anchor = None
    if "pagination_token" in ctx.params:
        anchor = r.decode_token("cc", ctx.params["pagination_token"], "pagination_token")
    org = ctx.state.org.id
    convs = sorted(
        (
            v
            for v in ctx.state.chat.conversations.values()
            if org in v.participants and (anchor is None or v.updated_seq < anchor)
        ),
        key=lambda v: v.updated_seq,
        reverse=True,
    )
    page, more = convs[:max_results], len(convs) > max_results
    meta: dict[str, Any] = {"result_count": len(page), "has_more": more}
    if more:
        meta["next_token"] = r.encode_token("cc", page[-1].updated_seq)
    body: dict[str, Any] = {}
    if page:
        body["data"] = [_conversation_json(ctx, v, fields) for v in page]
        includes = _conversation_includes(ctx, page, ex)
        if includes:
            body["includes"] = includes
    body["meta"] = meta
    return 200, body


def get_conversation(ctx: Ctx) -> tuple[int, dict[str, Any]]:
    conv = _conversation(ctx)
    fields = r.parse_list(ctx.params, ("chat_conversation.fields",), CONVERSATION_FIELDS)
    ex = r.parse_list(ctx.params, ("expansions",), CONVERSATION_EXPANSIONS)
    body: dict[str, Any] = {"data": _conversation_json(ctx, conv, fields)}
    includes = _conversation_includes(ctx, [conv], ex)
    if includes:
        body["includes"] = includes
    return 200, body


def conversation_events(ctx: Ctx) -> tuple[int, dict[str, Any]]:
    """GET /2/chat/conversations/:id/events: messages and key changes, newest first, every key change in meta."""
    conv = _conversation(ctx)
    max_results = _int_param(ctx, "max_results", 1, 100, 10)
    fields = r.parse_list(ctx.params, ("chat_message_event.fields",), EVENT_FIELDS) or DEFAULT_EVENT_FIELDS
    anchor = None
    if "pagination_token" in ctx.params:
        anchor = r.decode_token("ce", ctx.params["pagination_token"], "pagination_token")
    world = ctx.state.chat
    seqs = [s for s in reversed(conv.events) if anchor is None or s < anchor][: max_results + 1]
    page, more = seqs[:max_results], len(seqs) > max_results
    data = [_event_json(world.events[s], fields) for s in page]
    if ctx.fault == "out_of_order":
        ctx.state.faults.shuffle(data)  # type: ignore[arg-type]
    meta: dict[str, Any] = {
        "result_count": len(page),
        "has_more": more,
        "conversation_key_events": [world.events[s].encoded for s in sorted(conv.key_changes.values())],
    }
    if more:
        meta["next_token"] = r.encode_token("ce", page[-1])
    body: dict[str, Any] = {"data": data} if data else {}
    body["meta"] = meta
    return 200, body


def _event_json(event: c.ChatEvent, fields: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "id" in fields:
        out["id"] = str(event.sequence_id)
    if "conversation_id" in fields:
        out["conversation_id"] = c.api_id(event.conversation_id)
    if "created_at" in fields:
        out["created_at"] = event.created_at
    if "encoded_event" in fields:
        out["encoded_event"] = event.encoded
    if "sender_id" in fields:
        out["sender_id"] = event.sender_id
    if "previous_id" in fields and event.previous_id is not None:
        out["previous_id"] = str(event.previous_id)
    if "is_trusted" in fields:
        out["is_trusted"] = True
    if "message_event_signature" in fields:
        out["message_event_signature"] = dict(event.signature)
    return out


# -- writes ----------------------------------------------------------------------------------------
def send_message(ctx: Ctx) -> tuple[int, dict[str, Any]]:
    """POST /2/chat/conversations/:id/messages: an encrypted, signed message from the org."""
    state = ctx.state
    conv = _conversation(ctx)
    body = ctx.body or {}
    message_id = body.get("message_id")
    if not isinstance(message_id, str) or not message_id:
        raise _bad("`message_id` is required: send the SendPayload.message_id the Chat XDK generated")
    existing = state.chat.by_message_id.get(message_id)
    if existing is not None:
        event = state.chat.events[existing]
        if event.conversation_id == conv.id and event.from_org and event.kind == "message":
            return 201, {"data": {"encoded_message_event": event.encoded}}  # a retry of a send X accepted
        raise _bad(f"message id {message_id} was already used; encrypt the message again for a new id")
    try:
        create = c.b64decode(body.get("encoded_message_create_event"), "encoded_message_create_event")
        signature = c.b64decode(
            body.get("encoded_message_event_signature"), "encoded_message_event_signature"
        )
        event = c.append_message(state, conv, state.org.id, message_id, create, signature)
    except c.ChatError as exc:
        raise _bad(str(exc), exc.reason) from exc
    event.sent_by_client = True
    c.customer_read(state, conv, event)
    others = [u for u in conv.participants if u != state.org.id]
    state.sent.append(
        SentRecord(
            id=str(event.sequence_id),
            kind="chat",
            text=event.text or "",
            created_at=event.created_at,
            recipient_id=others[0] if len(others) == 1 else None,
            dm_conversation_id=c.api_id(conv.id),
        )
    )
    c.emit_message(state, conv, event)
    state.traffic_cursor.chat_replied.append(conv.id)
    return 201, {"data": {"encoded_message_event": event.encoded}}


def add_keys(ctx: Ctx) -> tuple[int, dict[str, Any]]:
    """POST /2/chat/conversations/:id/keys: start a 1:1 (recipient id) or rotate a conversation's key."""
    state = ctx.state
    conv_id = _canonical(ctx)
    conv = state.chat.conversations.get(conv_id)
    if conv is None:
        if conv_id.startswith("g"):
            raise _not_found(conv_id)
        other = (
            next(u for u in conv_id.split(":") if u != state.org.id)
            if state.org.id in conv_id.split(":")
            else None
        )
        if other is None:
            raise _not_found(c.api_id(conv_id))
        if other not in state.users:
            raise ApiError(
                404,
                "Not Found Error",
                f"Could not find user with id: [{other}].",
                "resource-not-found",
                resource_type="user",
                resource_id=other,
                parameter="id",
                value=other,
            )
        conv = c.conversation(state, conv_id, [state.org.id, other])
    elif state.org.id not in conv.participants:
        raise _not_found(c.api_id(conv_id))
    body = ctx.body or {}
    version = body.get("conversation_key_version")
    if not isinstance(version, str) or not version.isdigit():
        raise _bad("`conversation_key_version` must be the Chat XDK's conversation_key_version (digits)")
    if conv.latest_key is not None and int(version) <= int(conv.latest_key):
        raise _bad(f"conversation key version {version} is not newer than the latest ({conv.latest_key})")
    parts = body.get("conversation_participant_keys")
    if not isinstance(parts, list) or not parts or not all(isinstance(p, dict) for p in parts):
        raise _bad("`conversation_participant_keys` must list the key wrapped for each participant")
    actions = body.get("action_signatures")
    if not isinstance(actions, list) or not actions or not isinstance(actions[0], dict):
        raise _bad(
            "`action_signatures` is required: send every action signature prepare_conversation_key_change returned"
        )
    try:
        event = c.append_key_change(state, conv, state.org.id, version, parts, actions[0])
    except c.ChatError as exc:
        if not conv.events:
            del state.chat.conversations[conv.id]
        raise _bad(str(exc), exc.reason) from exc
    c.customer_learn_key(state, conv, event)
    return 200, {"data": {"conversation_id": c.api_id(conv.id), "sequence_id": str(event.sequence_id)}}


def mark_read(ctx: Ctx) -> tuple[int, dict[str, Any]]:
    conv = _conversation(ctx)
    seen = (ctx.body or {}).get("seen_until_sequence_id")
    if not isinstance(seen, str) or not seen.isdigit() or int(seen) not in ctx.state.chat.events:
        raise _bad("`seen_until_sequence_id` must be the id of an event in this conversation")
    if ctx.state.chat.events[int(seen)].conversation_id != conv.id:
        raise _bad(f"event {seen} is not in conversation {c.api_id(conv.id)}")
    conv.seen_until[ctx.state.org.id] = seen
    return 200, {"data": {"success": True}}


def typing(ctx: Ctx) -> tuple[int, dict[str, Any]]:
    conv = _conversation(ctx)
    conv.typing += 1
    return 200, {"data": {"success": True}}


# -- public keys -----------------------------------------------------------------------------------
def _user(ctx: Ctx) -> str:
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


def get_public_keys(ctx: Ctx) -> tuple[int, dict[str, Any]]:
    """GET /2/users/:id/public_keys: every registered version, newest first (all fields, as X serves them)."""
    uid = _user(ctx)
    r.parse_list(ctx.params, ("public_key.fields",), PUBLIC_KEY_FIELDS)
    rows = sorted(ctx.state.chat.keys.get(uid, []), key=lambda k: int(k.version), reverse=True)
    return 200, {"data": [k.row() for k in rows]}


def add_public_key(ctx: Ctx) -> tuple[int, dict[str, Any]]:
    """POST /2/users/:id/public_keys: register the authenticated user's X Chat public keys."""
    uid = _user(ctx)
    if uid != ctx.state.org.id:
        raise ApiError(
            403,
            "Forbidden",
            "You can only register public keys for the authenticated user.",
            "not-authorized-for-resource",
            resource_type="user",
            resource_id=uid,
        )
    try:
        key = c.register_key(ctx.state.chat, uid, ctx.body or {})
    except c.ChatError as exc:
        raise _bad(str(exc)) from exc
    return 200, {"data": {"public_key_version": key.version}}
