"""X Chat in the emulator: registered public keys, encrypted conversations and their events, and the
customers on the other side, who hold real `chatxdk` keypairs.

X never sees plaintext: a client encrypts and signs with the Chat XDK and sends Thrift-encoded parts
(`encoded_message_create_event`, `encoded_message_event_signature`, or a prepared key change's
`encoded_message_event_detail`); X wraps them in a `MessageEvent` (sequence id, message id, sender,
conversation, time) and serves that as `encoded_event`. The wire format is the one in chat-xdk's
`thrift/event.thrift`; the emulator only frames and reads Thrift here, all cryptography is `chat_xdk`'s.

The emulated customers are the only place plaintext exists on the emulator's side, as on a real
customer's phone: they encrypt what they write, and decrypt what the org sends, which is how ground
truth learns whether a reply arrived readable.
"""

from __future__ import annotations

import base64
import binascii
import struct
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chat_xdk import Chat, QuickReply

from flockdesk.emulator.ids import created_at, id_time_ms

if TYPE_CHECKING:
    from flockdesk.emulator.state import EmulatorState

# Thrift binary protocol type codes
T_STOP, T_BOOL, T_BYTE, T_DOUBLE, T_I16, T_I32, T_I64 = 0, 2, 3, 4, 6, 8, 10
T_STRING, T_STRUCT, T_MAP, T_SET, T_LIST = 11, 12, 13, 14, 15
_FIXED = {T_BOOL: 1, T_BYTE: 1, T_DOUBLE: 8, T_I16: 2, T_I32: 4, T_I64: 8}
_MAX_DEPTH = 32

# MessageEventDetail union members the emulator stores
DETAIL_MESSAGE_CREATE, DETAIL_KEY_CHANGE, DETAIL_GROUP_CHANGE = 1, 3, 4


class ThriftError(ValueError):
    pass


class ChatError(ValueError):
    """A chat request the platform refuses; `reason` is X's failure type where one applies."""

    def __init__(self, detail: str, reason: str | None = None, status: int = 400) -> None:
        super().__init__(detail)
        self.reason = reason
        self.status = status


# -- Thrift framing --------------------------------------------------------------------------------
def read_struct(data: bytes, pos: int = 0, depth: int = 0) -> tuple[dict[int, Any], int]:
    """Fields of a binary-protocol struct starting at `pos` (field id -> value), and the end offset."""
    if depth > _MAX_DEPTH:
        raise ThriftError("nesting too deep")
    fields: dict[int, Any] = {}
    while True:
        _need(data, pos, 1)
        ftype = data[pos]
        pos += 1
        if ftype == T_STOP:
            return fields, pos
        _need(data, pos, 2)
        fid = int.from_bytes(data[pos : pos + 2], "big", signed=True)
        fields[fid], pos = _read_value(data, pos + 2, ftype, depth)


def _need(data: bytes, pos: int, n: int) -> None:
    if n < 0 or pos + n > len(data):
        raise ThriftError("truncated")


def _read_value(data: bytes, pos: int, ftype: int, depth: int) -> tuple[Any, int]:
    if ftype in _FIXED:
        n = _FIXED[ftype]
        _need(data, pos, n)
        raw = data[pos : pos + n]
        return (raw if ftype == T_DOUBLE else int.from_bytes(raw, "big", signed=True)), pos + n
    if ftype == T_STRING:
        _need(data, pos, 4)
        n = int.from_bytes(data[pos : pos + 4], "big", signed=True)
        _need(data, pos + 4, n)
        return data[pos + 4 : pos + 4 + n], pos + 4 + n
    if ftype == T_STRUCT:
        return read_struct(data, pos, depth + 1)
    if ftype in (T_LIST, T_SET):
        _need(data, pos, 5)
        etype, n = data[pos], int.from_bytes(data[pos + 1 : pos + 5], "big", signed=True)
        pos += 5
        items = []
        for _ in range(max(n, 0)):
            item, pos = _read_value(data, pos, etype, depth + 1)
            items.append(item)
        return items, pos
    if ftype == T_MAP:
        _need(data, pos, 6)
        ktype, vtype = data[pos], data[pos + 1]
        n = int.from_bytes(data[pos + 2 : pos + 6], "big", signed=True)
        pos += 6
        out = []
        for _ in range(max(n, 0)):
            k, pos = _read_value(data, pos, ktype, depth + 1)
            v, pos = _read_value(data, pos, vtype, depth + 1)
            out.append((k, v))
        return out, pos
    raise ThriftError(f"unknown field type {ftype}")


def parse_whole_struct(data: bytes) -> dict[int, Any]:
    fields, end = read_struct(data)
    if end != len(data):
        raise ThriftError("trailing bytes after the struct")
    return fields


def _f_string(fid: int, value: str | bytes) -> bytes:
    raw = value.encode() if isinstance(value, str) else value
    return struct.pack(">bhi", T_STRING, fid, len(raw)) + raw


def _f_struct(fid: int, body: bytes) -> bytes:
    return struct.pack(">bh", T_STRUCT, fid) + body


def signature_struct(signature: str, public_key_version: str, signature_version: str) -> bytes:
    """A Thrift `MessageEventSignature` (what a prepared key change carries as separate fields)."""
    return (
        _f_string(1, signature) + _f_string(2, public_key_version) + _f_string(3, signature_version) + b"\0"
    )


def message_event(
    *,
    sequence_id: int,
    message_id: str,
    sender_id: str,
    conversation_id: str,
    detail: bytes,
    signature: bytes,
    previous_sequence_id: int | None,
) -> bytes:
    """The Thrift `MessageEvent` X serves as `encoded_event` (`detail`: a `MessageEventDetail`)."""
    out = (
        _f_string(1, str(sequence_id))
        + _f_string(2, message_id)
        + _f_string(3, sender_id)
        + _f_string(4, conversation_id)
        + _f_string(6, str(id_time_ms(sequence_id)))
        + _f_struct(7, detail)
        + _f_struct(9, signature)
    )
    if previous_sequence_id is not None:
        out += _f_string(10, str(previous_sequence_id))
    return out + b"\0"


def b64decode(value: Any, what: str) -> bytes:
    if not isinstance(value, str) or not value:
        raise ChatError(f"`{what}` is required: a base64 string from the Chat XDK")
    padded = value + "=" * (-len(value) % 4)
    try:
        if "-" in value or "_" in value:
            return base64.urlsafe_b64decode(padded)
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ChatError(f"`{what}` is not valid base64 ({exc})") from exc


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# -- conversation ids ------------------------------------------------------------------------------
def one_to_one_id(a: str, b: str) -> str:
    """The canonical 1:1 id the Chat XDK derives and signs: the two user ids, numerically sorted."""
    x, y = sorted((int(a), int(b)))
    return f"{x}:{y}"


def api_id(conversation_id: str) -> str:
    """The id as the API shows it and URL paths take it (`:` becomes `-`)."""
    return conversation_id.replace(":", "-")


# -- records ---------------------------------------------------------------------------------------
@dataclass
class ChatKey:
    """One public key registration (POST /2/users/:id/public_keys)."""

    user_id: str
    version: str
    public_key: str  # identity key (SPKI, base64), used to wrap conversation keys
    signing_public_key: str
    identity_public_key_signature: str
    public_key_fingerprint: str | None = None
    registration_method: str | None = None
    signing_public_key_signature: str | None = None

    def row(self) -> dict[str, Any]:
        return {
            "public_key_version": self.version,
            "public_key": self.public_key,
            "signing_public_key": self.signing_public_key,
            "identity_public_key_signature": self.identity_public_key_signature,
        }

    def signing_entry(self) -> dict[str, str]:
        """The shape `decrypt_event(s)` takes for signature verification."""
        return {
            "user_id": self.user_id,
            "public_key_version": self.version,
            "public_key": self.signing_public_key,
            "identity_public_key": self.public_key,
            "identity_public_key_signature": self.identity_public_key_signature,
        }

    def participant_input(self) -> dict[str, str]:
        """The shape the `prepare_*` methods take."""
        return {"user_id": self.user_id, "public_key": self.public_key, "key_version": self.version}


@dataclass
class ChatEvent:
    sequence_id: int
    message_id: str
    sender_id: str
    conversation_id: str
    kind: str  # "message" | "key_change" | "group_change"
    encoded: str  # base64 Thrift MessageEvent
    key_version: str
    signature: dict[str, str]
    previous_id: int | None
    from_org: bool
    sent_by_client: bool = False
    # ground truth, never served through the API
    text: str | None = None
    quick_reply: dict[str, Any] | None = None
    garbled: bool = False
    readable: bool | None = None  # for the org's messages: did the customer decrypt and verify it
    problem: str | None = None

    @property
    def created_at(self) -> str:
        return created_at(self.sequence_id)


@dataclass
class ChatConversation:
    id: str  # canonical: "small:large" or "g<digits>"
    participants: list[str]
    created_seq: int
    group_name: str | None = None
    admins: list[str] = field(default_factory=list)
    events: list[int] = field(default_factory=list)  # sequence ids, ascending
    key_changes: dict[str, int] = field(default_factory=dict)  # key version -> its key change event
    latest_key: str | None = None
    wrapped_for: dict[str, str] = field(default_factory=dict)  # user id -> public key version of latest key
    seen_until: dict[str, str] = field(default_factory=dict)
    typing: int = 0

    @property
    def is_group(self) -> bool:
        return self.id.startswith("g")

    @property
    def updated_seq(self) -> int:
        return self.events[-1] if self.events else self.created_seq


@dataclass
class ChatPeer:
    """An emulated customer's X Chat identity and the conversation keys their device holds."""

    user_id: str
    chat: Chat
    version: str
    keys: dict[str, dict[str, bytes]] = field(default_factory=dict)  # conversation -> version -> key


@dataclass
class ChatWorld:
    keys: dict[str, list[ChatKey]] = field(default_factory=dict)  # user id -> registrations, oldest first
    conversations: dict[str, ChatConversation] = field(default_factory=dict)
    events: dict[int, ChatEvent] = field(default_factory=dict)
    by_message_id: dict[str, int] = field(default_factory=dict)
    peers: dict[str, ChatPeer] = field(default_factory=dict)

    def latest_key(self, user_id: str) -> ChatKey | None:
        rows = self.keys.get(user_id)
        return max(rows, key=lambda k: int(k.version)) if rows else None

    def signing_entries(self, user_ids: list[str]) -> list[dict[str, str]]:
        return [k.signing_entry() for uid in user_ids for k in self.keys.get(uid, [])]

    def key_change_b64(self, conv: ChatConversation, version: str) -> str | None:
        seq = conv.key_changes.get(version)
        return self.events[seq].encoded if seq is not None else None


# -- registering keys --------------------------------------------------------------------------------
_BINDING_CHECKER: Chat | None = None


def register_key(world: ChatWorld, user_id: str, body: dict[str, Any]) -> ChatKey:
    """Store a registration body (`{"public_key": {...}, "version", "generate_version"}`) once checked."""
    global _BINDING_CHECKER
    pk = body.get("public_key")
    if not isinstance(pk, dict):
        raise ChatError("`public_key` must be the registration object from the Chat XDK's generate_keypairs")
    missing = [
        k for k in ("public_key", "signing_public_key", "identity_public_key_signature") if not pk.get(k)
    ]
    if missing:
        raise ChatError(
            f"`public_key` lacks {', '.join(missing)}; send generate_keypairs()'s public_key as is"
        )
    if _BINDING_CHECKER is None:
        _BINDING_CHECKER = Chat()
    try:
        bound = _BINDING_CHECKER.verify_key_binding(
            str(pk["public_key"]), str(pk["signing_public_key"]), str(pk["identity_public_key_signature"])
        )
    except ValueError as exc:
        raise ChatError(f"the public keys could not be read ({exc})") from exc
    if not bound:
        raise ChatError("identity_public_key_signature does not bind the signing key to the identity key")
    rows = world.keys.setdefault(user_id, [])
    newest = max((int(k.version) for k in rows), default=0)
    raw_version = str(body.get("version") or "")
    if raw_version and not raw_version.isdigit():
        raise ChatError("`version` must be a number (the Chat XDK gives one), or set generate_version")
    if body.get("generate_version") or not raw_version:
        version = str(max(newest + 1, int(raw_version or 0)))
    else:
        version = raw_version
        if any(k.version == version for k in rows):
            raise ChatError(f"public key version {version} is already registered; set generate_version")
    key = ChatKey(
        user_id=user_id,
        version=version,
        public_key=str(pk["public_key"]),
        signing_public_key=str(pk["signing_public_key"]),
        identity_public_key_signature=str(pk["identity_public_key_signature"]),
        public_key_fingerprint=pk.get("public_key_fingerprint"),
        registration_method=pk.get("registration_method"),
        signing_public_key_signature=pk.get("signing_public_key_signature"),
    )
    rows.append(key)
    return key


# -- appending events ------------------------------------------------------------------------------
def _append(state: EmulatorState, conv: ChatConversation, **kw: Any) -> ChatEvent:
    world = state.chat
    seq = state.ids.next()
    previous = conv.events[-1] if conv.events else None
    detail: bytes = kw.pop("detail")
    sig: bytes = kw.pop("signature_bytes")
    encoded = message_event(
        sequence_id=seq,
        message_id=kw["message_id"],
        sender_id=kw["sender_id"],
        conversation_id=conv.id,
        detail=detail,
        signature=sig,
        previous_sequence_id=previous,
    )
    event = ChatEvent(
        sequence_id=seq,
        conversation_id=conv.id,
        encoded=b64(encoded),
        previous_id=previous,
        from_org=kw["sender_id"] == state.org.id,
        **kw,
    )
    world.events[seq] = event
    world.by_message_id[event.message_id] = seq
    conv.events.append(seq)
    return event


def _signature_fields(raw: bytes) -> dict[str, str]:
    try:
        fields = parse_whole_struct(raw)
    except ThriftError as exc:
        raise ChatError(
            f"`encoded_message_event_signature` is not a Thrift MessageEventSignature ({exc})"
        ) from exc
    out: dict[str, str] = {}
    for fid, name in ((1, "signature"), (2, "public_key_version"), (3, "signature_version")):
        value = fields.get(fid)
        if not isinstance(value, bytes) or not value:
            raise ChatError(
                f"`encoded_message_event_signature` lacks its {name}; send the Chat XDK's value as is"
            )
        out[name] = value.decode()
    return out


def append_key_change(
    state: EmulatorState,
    conv: ChatConversation,
    sender_id: str,
    version: str,
    participant_keys: list[dict[str, str]],
    action: dict[str, Any],
) -> ChatEvent:
    """A conversation-key change from a prepared change's first action signature."""
    detail = b64decode(action.get("encoded_message_event_detail"), "encoded_message_event_detail")
    try:
        fields = parse_whole_struct(detail)
    except ThriftError as exc:
        raise ChatError(f"`encoded_message_event_detail` is not a Thrift MessageEventDetail ({exc})") from exc
    if DETAIL_KEY_CHANGE not in fields:
        raise ChatError("the first action signature must be the conversation-key change")
    sig = action.get("message_event_signature")
    if not isinstance(sig, dict) or not all(
        isinstance(sig.get(k), str) and sig[k]
        for k in ("signature", "public_key_version", "signature_version")
    ):
        raise ChatError(
            "`message_event_signature` needs signature, public_key_version and signature_version "
            "(the Chat XDK's action_signatures entry)"
        )
    message_id = action.get("message_id")
    if not isinstance(message_id, str) or not message_id:
        raise ChatError("`message_id` is required in each action signature")
    if message_id in state.chat.by_message_id:
        raise ChatError(f"message id {message_id} was already used; prepare a new key change")
    wanted = set(conv.participants)
    given = {str(p.get("user_id")): str(p.get("public_key_version")) for p in participant_keys}
    if not wanted <= set(given):
        missing = ", ".join(sorted(wanted - set(given)))
        raise ChatError(
            f"conversation_participant_keys must wrap the key for every participant; missing {missing}"
        )
    event = _append(
        state,
        conv,
        message_id=message_id,
        sender_id=sender_id,
        kind="key_change",
        key_version=version,
        signature={k: str(sig[k]) for k in ("signature", "public_key_version", "signature_version")},
        detail=detail,
        signature_bytes=signature_struct(
            str(sig["signature"]), str(sig["public_key_version"]), str(sig["signature_version"])
        ),
    )
    conv.key_changes[version] = event.sequence_id
    if conv.latest_key is None or int(version) > int(conv.latest_key):
        conv.latest_key = version
        conv.wrapped_for = {uid: given[uid] for uid in conv.participants}
    return event


def append_message(
    state: EmulatorState,
    conv: ChatConversation,
    sender_id: str,
    message_id: str,
    create_event: bytes,
    signature: bytes,
) -> ChatEvent:
    """A message from `encoded_message_create_event` + `encoded_message_event_signature`."""
    try:
        fields = parse_whole_struct(create_event)
    except ThriftError as exc:
        raise ChatError(f"`encoded_message_create_event` is not a Thrift MessageCreateEvent ({exc})") from exc
    version_raw = fields.get(101)
    if not isinstance(fields.get(100), bytes) or not isinstance(version_raw, bytes):
        raise ChatError("`encoded_message_create_event` lacks its contents or conversation_key_version")
    version = version_raw.decode()
    if version != conv.latest_key:
        raise ChatError(
            f"the message is encrypted under conversation key version {version} but the latest is "
            f"{conv.latest_key}; read meta.conversation_key_events and encrypt with the latest key",
            "NON_LATEST_CKEY_VERSION",
        )
    sig = _signature_fields(signature)
    return _append(
        state,
        conv,
        message_id=message_id,
        sender_id=sender_id,
        kind="message",
        key_version=version,
        signature=sig,
        detail=_f_struct(DETAIL_MESSAGE_CREATE, create_event) + b"\0",
        signature_bytes=signature,
    )


def conversation(state: EmulatorState, conv_id: str, participants: list[str]) -> ChatConversation:
    world = state.chat
    conv = world.conversations.get(conv_id)
    if conv is None:
        conv = ChatConversation(conv_id, sorted(participants, key=int), state.ids.next())
        world.conversations[conv_id] = conv
    return conv


# -- the customers' side ---------------------------------------------------------------------------
def peer_for(state: EmulatorState, user_id: str) -> ChatPeer:
    """The customer's X Chat identity, generated and registered the first time they use X Chat."""
    world = state.chat
    peer = world.peers.get(user_id)
    if peer is not None:
        return peer
    chat = Chat()
    reg = chat.generate_keypairs()
    pk = reg.public_key
    key = register_key(
        world,
        user_id,
        {
            "public_key": {
                "public_key": pk.public_key,
                "signing_public_key": pk.signing_public_key,
                "identity_public_key_signature": pk.identity_public_key_signature,
                "public_key_fingerprint": pk.public_key_fingerprint,
                "registration_method": pk.registration_method,
                "signing_public_key_signature": pk.signing_public_key_signature,
            },
            "version": str(reg.version or 1),
            "generate_version": False,
        },
    )
    chat.set_identity(user_id, key.version)
    peer = ChatPeer(user_id, chat, key.version)
    world.peers[user_id] = peer
    return peer


def _sender_key(state: EmulatorState, user_id: str) -> ChatKey:
    key = state.chat.latest_key(user_id)
    assert key is not None, "a peer always has a registered key"
    return key


def customer_rotate(state: EmulatorState, peer: ChatPeer, conv: ChatConversation) -> ChatEvent:
    """The customer's device starts a conversation or rotates its key, wrapped for every participant."""
    world = state.chat
    inputs = []
    for uid in conv.participants:
        key = world.latest_key(uid)
        if key is None:
            raise ChatError(f"user {uid} has no X Chat public keys")
        inputs.append(key.participant_input())
    prep = peer.chat.prepare_conversation_key_change(inputs, conversation_id=conv.id)
    version = str(prep["conversation_key_version"])
    action = dict(prep["action_signatures"][0])
    action["message_event_signature"] = {
        "signature": action["signature"],
        "public_key_version": action["public_key_version"],
        "signature_version": action["signature_version"],
    }
    participant_keys = [
        {"user_id": p["user_id"], "public_key_version": p["public_key_version"]}
        for p in prep["participant_keys"]
    ]
    event = append_key_change(state, conv, peer.user_id, version, participant_keys, action)
    peer.keys.setdefault(conv.id, {})[version] = bytes(prep["conversation_key"])
    return event


def needs_rotation(state: EmulatorState, conv: ChatConversation) -> bool:
    """True when the conversation has no key yet or a participant registered a newer key since."""
    if conv.latest_key is None:
        return True
    for uid in conv.participants:
        key = state.chat.latest_key(uid)
        if key is not None and conv.wrapped_for.get(uid) != key.version:
            return True
    return False


def customer_send(
    state: EmulatorState,
    peer: ChatPeer,
    conv: ChatConversation,
    text: str,
    *,
    quick_reply: QuickReply | None = None,
    garble: bool = False,
) -> ChatEvent:
    """The customer encrypts and signs `text`; a garbled event is corrupted in transit (it will not verify)."""
    if needs_rotation(state, conv) or conv.latest_key not in peer.keys.get(conv.id, {}):
        customer_rotate(state, peer, conv)
    version = conv.latest_key
    assert version is not None
    payload = peer.chat.encrypt_message(
        conv.id,
        text,
        conversation_key=peer.keys[conv.id][version],
        conversation_key_version=version,
        quick_reply=quick_reply,
    )
    create = base64.b64decode(payload.encrypted_content)
    if garble:  # flip a byte inside the ciphertext: the signature no longer matches
        mutable = bytearray(create)
        mutable[min(len(mutable) - 2, 24)] ^= 0x5A
        create = bytes(mutable)
    event = append_message(
        state,
        conv,
        peer.user_id,
        payload.message_id,
        create,
        base64.b64decode(payload.encoded_event_signature),
    )
    event.text, event.garbled = text, garble
    event.quick_reply = dict(quick_reply) if quick_reply else None
    emit_message(state, conv, event)
    return event


def customer_learn_key(state: EmulatorState, conv: ChatConversation, event: ChatEvent) -> None:
    """Every customer in the conversation verifies and unwraps a key change the org made."""
    world = state.chat
    signers = world.signing_entries([event.sender_id])
    for uid in conv.participants:
        peer = world.peers.get(uid)
        if peer is None:
            continue
        result = peer.chat.decrypt_events([event.encoded], signers)
        keys = result.get("conversation_keys", {}).get("keys", {})
        if result.get("errors") or event.key_version not in keys:
            event.problem = (
                f"customer {uid} could not use the key change: {result.get('errors') or 'no key for them'}"
            )
            continue
        peer.keys.setdefault(conv.id, {})[event.key_version] = bytes(keys[event.key_version])


def customer_read(state: EmulatorState, conv: ChatConversation, event: ChatEvent) -> None:
    """The customers decrypt and verify a message the org sent; ground truth records what they read."""
    world = state.chat
    signers = world.signing_entries([event.sender_id])
    for uid in conv.participants:
        peer = world.peers.get(uid)
        if peer is None or uid == event.sender_id:
            continue
        try:
            decrypted = peer.chat.decrypt_event(event.encoded, peer.keys.get(conv.id, {}), signers)
        except ValueError as exc:
            event.readable, event.problem = False, f"customer {uid}: {exc}"
            return
        content = decrypted.get("content") or {}
        if decrypted.get("type") != "Message" or not decrypted.get("verified"):
            event.readable, event.problem = False, f"customer {uid}: not a verified message"
            return
        event.readable = True
        event.text = content.get("text")
        event.quick_reply = content.get("quick_reply")


# -- activity --------------------------------------------------------------------------------------
def chat_payload(state: EmulatorState, conv: ChatConversation, event: ChatEvent) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "conversation_id": api_id(conv.id),
        "sender_id": event.sender_id,
        "encoded_event": event.encoded,
        "conversation_key_version": event.key_version,
    }
    change = state.chat.key_change_b64(conv, event.key_version)
    if change is not None:
        payload["conversation_key_change_event"] = change
    return payload


def emit_message(state: EmulatorState, conv: ChatConversation, event: ChatEvent) -> None:
    """X Activity events for the org: `chat.sent` for its own messages, `chat.received` for the rest."""
    org = state.org.id
    if org not in conv.participants:
        return
    kind, direction = ("chat.sent", "sent") if event.from_org else ("chat.received", "received")
    state.activity.emit(
        kind,
        org,
        chat_payload(state, conv, event),
        direction=direction,
        at=id_time_ms(event.sequence_id) / 1000,
    )


def emit_join(state: EmulatorState, conv: ChatConversation, event: ChatEvent) -> None:
    state.activity.emit(
        "chat.conversation_join",
        state.org.id,
        chat_payload(state, conv, event),
        direction="received",
        at=id_time_ms(event.sequence_id) / 1000,
    )


def group_create(state: EmulatorState, peer: ChatPeer, members: list[str], title: str) -> ChatConversation:
    """A customer creates a group with the org and friends: key change + group create, then `chat.conversation_join`."""
    world = state.chat
    conv_id = f"g{state.ids.next()}"
    conv = conversation(state, conv_id, sorted({peer.user_id, *members}, key=int))
    conv.group_name, conv.admins = title, [peer.user_id]
    inputs = []
    for uid in conv.participants:
        key = world.latest_key(uid)
        if key is None:
            raise ChatError(f"user {uid} has no X Chat public keys")
        inputs.append(key.participant_input())
    prep = peer.chat.prepare_group_create(inputs, conv_id, conv.participants, conv.admins)
    version = str(prep["conversation_key_version"])
    actions = []
    for raw in prep["action_signatures"]:
        action = dict(raw)
        action["message_event_signature"] = {
            "signature": action["signature"],
            "public_key_version": action["public_key_version"],
            "signature_version": action["signature_version"],
        }
        actions.append(action)
    participant_keys = [
        {"user_id": p["user_id"], "public_key_version": p["public_key_version"]}
        for p in prep["participant_keys"]
    ]
    append_key_change(state, conv, peer.user_id, version, participant_keys, actions[0])
    peer.keys.setdefault(conv.id, {})[version] = bytes(prep["conversation_key"])
    for uid in conv.participants:  # the other customers' devices unwrap the group key
        other = world.peers.get(uid)
        if other is not None and other is not peer:
            other.keys.setdefault(conv.id, {})[version] = other.chat.decrypt_conversation_key(
                next(p["encrypted_key"] for p in prep["participant_keys"] if p["user_id"] == uid)
            )
    create = actions[1]
    detail = b64decode(create["encoded_message_event_detail"], "encoded_message_event_detail")
    sig = create["message_event_signature"]
    event = _append(
        state,
        conv,
        message_id=str(create["message_id"]),
        sender_id=peer.user_id,
        kind="group_change",
        key_version=version,
        signature={k: str(sig[k]) for k in ("signature", "public_key_version", "signature_version")},
        detail=detail,
        signature_bytes=signature_struct(
            sig["signature"], sig["public_key_version"], sig["signature_version"]
        ),
    )
    if state.org.id in conv.participants:
        emit_join(state, conv, event)
    return conv
