"""X Chat (end-to-end encrypted DMs) for one account, with the official Chat XDK (`chatxdk`).

X never sees plaintext and neither does anything outside this module and the app's own pages: the
account's private keys (chatxdk's `export_keys` blob) come from the store through a loader, every
event is decrypted and its signature verified here, and what leaves is an `InboundItem` whose `raw`
is the encrypted event as X served it. An event that cannot be decrypted or verified is a dead
letter with chatxdk's reason, never an item with unreadable text.

Conversation keys are not stored: each read takes the conversation's key-change events
(`meta.conversation_key_events`) and unwraps them with the account's identity key, so a customer's
key rotation is picked up by the next read. A send encrypts under the latest key; when the account
cannot unwrap it (the conversation is new, or the account registered new keys since), the account
rotates the conversation's key first (`prepare_conversation_key_change` + POST .../keys).

Message ids are `xchat:<sequence id>`, distinct from legacy DM event ids.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from chat_xdk import Chat, QuickReply
from xdk.chat.models import AddConversationKeysRequest, AddUserPublicKeyRequest, SendMessageRequest

from flockdesk.connectors.base import (
    ChatConversation,
    ChatKeys,
    ChatKeysLoader,
    ChatKeysMissing,
    FetchedChatConversations,
    FetchedPage,
    PlatformRejected,
)
from flockdesk.connectors.x import links, parse
from flockdesk.domain.types import Author, DeadLetter, InboundItem, Page, SendResult

if TYPE_CHECKING:
    from flockdesk.connectors.x.client import XClient

log = logging.getLogger(__name__)

ORIGIN = "x:xchat"
ID_PREFIX = "xchat:"
PAGE_SIZE = 100
MAX_EVENT_PAGES = 50
CONVERSATION_FIELDS = ["created_at", "updated_at", "group_name", "type", "id"]
USER_FIELDS = ["description", "public_metrics", "verified", "name", "username"]
EVENT_FIELDS = ["id", "conversation_id", "created_at", "encoded_event", "sender_id"]
MESSAGE_TYPE = "Message"
MISSING = "X Chat keys missing: generate new keys (customers' older chats can't be read) or import a backup"
NON_LATEST = "NON_LATEST_CKEY_VERSION"


def external_id(sequence_id: str) -> str:
    return f"{ID_PREFIX}{sequence_id}"


def canonical_id(conversation_id: str) -> str:
    """The id chatxdk signs (`a:b` for a 1:1) from the id the API shows (`a-b`)."""
    return conversation_id.replace("-", ":") if not conversation_id.startswith("g") else conversation_id


def registration_body(chat: Chat) -> dict[str, Any]:
    """generate_keypairs()'s payload as POST /2/users/:id/public_keys takes it."""
    reg = chat.generate_keypairs()
    pk = reg.public_key
    return {
        "public_key": {
            "public_key": pk.public_key,
            "signing_public_key": pk.signing_public_key,
            "identity_public_key_signature": pk.identity_public_key_signature,
            "public_key_fingerprint": pk.public_key_fingerprint,
            "registration_method": pk.registration_method,
            "signing_public_key_signature": pk.signing_public_key_signature,
        },
        "version": str(reg.version),
        "generate_version": reg.generate_version,
    }


def _signing_entry(user_id: str, row: Mapping[str, Any]) -> dict[str, str]:
    return {
        "user_id": user_id,
        "public_key_version": str(row.get("public_key_version", "")),
        "public_key": str(row.get("signing_public_key", "")),
        "identity_public_key": str(row.get("public_key", "")),
        "identity_public_key_signature": str(row.get("identity_public_key_signature", "")),
    }


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _created(event: Mapping[str, Any]) -> datetime:
    msec = event.get("created_at_msec")
    if isinstance(msec, int) and msec > 0:
        return datetime.fromtimestamp(msec / 1000, UTC)
    return datetime.now(UTC)


class XChat:
    """The X Chat half of XClient: HTTP through the client's plumbing, cryptography through chatxdk."""

    def __init__(self, client: XClient, keys: ChatKeysLoader | None) -> None:
        self._client = client
        self._keys = keys
        self._chat: tuple[str, Chat] | None = None  # (fingerprint of the loaded keys, the session)

    # ---- keys ------------------------------------------------------------------------------------

    @property
    def org(self) -> str:
        org = self._client.org_user_id
        if not org:
            raise ChatKeysMissing("X Chat needs the account's user id")
        return org

    def session(self) -> Chat:
        """A chatxdk session holding the account's keys (rebuilt when the stored keys change)."""
        keys = self._keys() if self._keys is not None else None
        if keys is None:
            raise ChatKeysMissing(MISSING)
        mark = hashlib.sha256(keys.reveal() + keys.version.encode()).hexdigest()
        if self._chat is not None and self._chat[0] == mark:
            return self._chat[1]
        chat = Chat()
        try:
            chat.import_keys(keys.reveal(), keys.version)
        except ValueError as exc:
            raise ChatKeysMissing(f"{MISSING} (the stored keys are unusable: {exc})") from exc
        chat.set_identity(self.org, keys.version)
        self._chat = (mark, chat)
        return chat

    def create_keys(self) -> ChatKeys:
        chat = Chat()
        body = registration_body(chat)
        request = AddUserPublicKeyRequest.model_validate(body)
        org = self.org
        answer, _ = self._client._once(
            "public_key_register", lambda: self._client._sdk.chat.add_user_public_key(org, body=request)
        )
        data = _obj(answer.get("data"))
        version = str(data.get("public_key_version") or body["version"])
        blob = chat.export_keys()
        if blob is None:
            raise ChatKeysMissing("chatxdk generated no keys")
        keys = ChatKeys(bytes(blob), version)
        blob[:] = b"\0" * len(blob)
        return keys

    def public_keys(self, user_id: str) -> list[dict[str, Any]]:
        body, _ = self._client._read(
            "public_keys",
            lambda: self._client._sdk.users.get_public_key(
                user_id,
                public_key_fields=[
                    "public_key",
                    "public_key_version",
                    "signing_public_key",
                    "identity_public_key_signature",
                ],
            ),
        )
        rows = body.get("data")
        return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []

    def registered_version(self, blob: bytes) -> str | None:
        chat = Chat()
        try:
            chat.import_keys(bytes(blob))
        except ValueError:
            return None
        for row in self.public_keys(self.org):
            public = row.get("public_key")
            if isinstance(public, str) and public and chat.matches_registered_key(public):
                return str(row.get("public_key_version"))
        return None

    def signing_keys(
        self, user_ids: list[str], cache: dict[str, list[dict[str, str]]]
    ) -> list[dict[str, str]]:
        out: list[dict[str, str]] = []
        for uid in dict.fromkeys(user_ids):
            if uid not in cache:
                cache[uid] = [_signing_entry(uid, row) for row in self.public_keys(uid)]
            out += cache[uid]
        return out

    # ---- reading ---------------------------------------------------------------------------------

    def conversations(self, pagination_token: str | None) -> FetchedChatConversations:
        def call() -> Any:
            return next(
                iter(
                    self._client._sdk.chat.get_conversations(
                        max_results=PAGE_SIZE,
                        pagination_token=pagination_token,
                        chat_conversation_fields=CONVERSATION_FIELDS,
                        expansions=["participant_ids", "member_ids"],
                        user_fields=USER_FIELDS,
                    )
                )
            )

        body, _ = self._client._read("chat_conversations", call)
        out = FetchedChatConversations()
        for row in body.get("data") or []:
            if not isinstance(row, dict) or not isinstance(row.get("id"), str):
                continue
            members = row.get("participant_ids") or row.get("member_ids") or []
            out.conversations.append(
                ChatConversation(
                    id=row["id"],
                    participant_ids=tuple(str(m) for m in members),
                    is_group=row.get("type") == "group" or row["id"].startswith("g"),
                    updated_at=row.get("updated_at") if isinstance(row.get("updated_at"), str) else None,
                )
            )
        includes = _obj(body.get("includes"))
        for user in includes.get("users") or []:
            author = parse.parse_author(user)
            if author is not None:
                out.authors[author.external_id] = author
        meta = _obj(body.get("meta"))
        token = meta.get("next_token")
        out.next_token = token if isinstance(token, str) and token else None
        return out

    def _events_page(self, conversation_id: str, token: str | None) -> dict[str, Any]:
        def call() -> Any:
            return next(
                iter(
                    self._client._sdk.chat.get_conversation_events(
                        conversation_id,
                        max_results=PAGE_SIZE,
                        pagination_token=token,
                        chat_message_event_fields=EVENT_FIELDS,
                    )
                )
            )

        body, _ = self._client._read("chat_events", call)
        return dict(body)

    def events(
        self, conv: ChatConversation, since_id: str | None, authors: Mapping[str, Author] | None
    ) -> FetchedPage:
        chat = self.session()
        newer: list[dict[str, Any]] = []
        key_events: list[str] = []
        token: str | None = None
        for _ in range(MAX_EVENT_PAGES):
            body = self._events_page(conv.id, token)
            meta = _obj(body.get("meta"))
            key_events = [k for k in meta.get("conversation_key_events") or [] if isinstance(k, str)]
            reached = False
            for event in body.get("data") or []:
                eid = event.get("id") if isinstance(event, dict) else None
                if not isinstance(eid, str) or not isinstance(event.get("encoded_event"), str):
                    continue
                if since_id is not None and links.compare_ids(eid, since_id) <= 0:
                    reached = True
                    continue
                newer.append(event)
            token = meta.get("next_token") if isinstance(meta.get("next_token"), str) else None
            if reached or not token:
                break
        newer.sort(key=lambda e: links.id_key(e["id"]))
        page = self.decrypt(chat, conv, newer, key_events, authors or {})
        newest = max((e["id"] for e in newer), key=links.id_key, default=None)
        page.newest_id = newest
        return FetchedPage(page)

    def decrypt(
        self,
        chat: Chat,
        conv: ChatConversation,
        events: list[dict[str, Any]],
        key_events: list[str],
        authors: Mapping[str, Author],
    ) -> Page:
        page = Page()
        if not events:
            return page
        members = list(conv.participant_ids) or [str(e.get("sender_id")) for e in events]
        signing = self.signing_keys([*members, *(str(e.get("sender_id")) for e in events)], {})
        encoded = [e["encoded_event"] for e in events]
        fresh = [b for b in encoded if b not in set(key_events)]
        batch = key_events + fresh
        try:
            result = chat.decrypt_events(batch, signing)
        except ValueError as exc:  # the whole batch is unreadable (e.g. a malformed key change)
            for event in events:
                page.dead.append(self._dead(conv.id, event["id"], event["encoded_event"], str(exc)))
            return page
        errors = result.get("errors") or {}
        by_b64: dict[str, dict[str, Any]] = {}
        for m in result.get("messages") or []:
            by_b64.setdefault(m.get("original_b64", ""), m.get("event") or {})
        failed = {batch[int(i)]: str(reason) for i, reason in errors.items() if str(i).isdigit()}
        for event in events:
            raw = event["encoded_event"]
            if raw in failed:
                page.dead.append(self._dead(conv.id, event["id"], raw, failed[raw]))
                continue
            decrypted = by_b64.get(raw)
            if decrypted is None:
                if raw not in key_events:
                    page.dead.append(self._dead(conv.id, event["id"], raw, "chatxdk returned nothing for it"))
                continue
            item_or_dead = self.item(conv, decrypted, raw, authors)
            if isinstance(item_or_dead, DeadLetter):
                page.dead.append(item_or_dead)
            elif item_or_dead is not None:
                page.items.append(item_or_dead)
        return page

    def _dead(self, conv_id: str, event_id: str, raw: str, reason: str) -> DeadLetter:
        return DeadLetter(
            origin=ORIGIN,
            reason=f"X Chat event {event_id} in conversation {conv_id} could not be decrypted or verified: {reason}",
            payload=raw,
        )

    def item(
        self, conv: ChatConversation, event: Mapping[str, Any], raw: str, authors: Mapping[str, Author]
    ) -> InboundItem | DeadLetter | None:
        """A decrypted event as a DM item; None for key and group changes (not messages)."""
        if event.get("type") != MESSAGE_TYPE:
            return None
        seq = str(event.get("sequence_id") or "")
        if not event.get("verified"):
            return self._dead(conv.id, seq, raw, "the signature was not verified")
        sender = str(event.get("sender_id") or "")
        content = _obj(event.get("content"))
        text = content.get("text")
        if not seq or not sender or not isinstance(text, str):
            return self._dead(conv.id, seq, raw, "a message without sequence id, sender or text")
        org = self.org
        others = [p for p in conv.participant_ids if p != org]
        thread = conv.id if conv.is_group or len(others) != 1 else links.dm_thread_id(org, others[0])
        quick = content.get("quick_reply")
        return InboundItem(
            platform=parse.PLATFORM,
            external_id=external_id(seq),
            kind="dm",
            thread_kind="dm",
            thread_id=thread,
            channel="dm",
            author_id=sender,
            text=text,
            created_at=_created(event),
            author=authors.get(sender),
            recipient_id=others[0] if sender == org and len(others) == 1 else None,
            raw={"conversation_id": conv.id, "sequence_id": seq, "encoded_event": raw},
            transport="xchat",
            quick_reply=dict(quick) if isinstance(quick, dict) else None,
        )

    def realtime(self, payload: Mapping[str, Any], event_type: str) -> Page:
        """A `chat.received` / `chat.sent` / `chat.conversation_join` payload: the event, with the key
        change for its version carried alongside."""
        page = Page()
        conv_id = payload.get("conversation_id")
        raw = payload.get("encoded_event")
        if not isinstance(conv_id, str) or not isinstance(raw, str):
            page.dead.append(
                DeadLetter(
                    ORIGIN,
                    f"{event_type} without conversation_id or encoded_event",
                    parse.dump_payload(payload),
                )
            )
            return page
        chat = self.session()
        sender = str(payload.get("sender_id") or "")
        one_to_one = not conv_id.startswith("g")
        members = [p for p in conv_id.split("-")] if one_to_one else [self.org, sender]
        conv = ChatConversation(conv_id, tuple(members), not one_to_one)
        change = payload.get("conversation_key_change_event")
        key_events = [change] if isinstance(change, str) and change else []
        events = [{"id": "?", "encoded_event": raw, "sender_id": sender}]
        decrypted = self.decrypt(chat, conv, events, key_events, {})
        for dead in decrypted.dead:  # name the event by its sequence id where the frame gives it
            page.dead.append(DeadLetter(dead.origin, dead.reason.replace("event ?", "event"), dead.payload))
        page.items = decrypted.items
        return page

    # ---- sending ---------------------------------------------------------------------------------

    def _rotate(self, chat: Chat, conv_id: str, members: list[str]) -> tuple[str, bytes]:
        """A new conversation key, wrapped for every member's latest public key, sent to X."""
        inputs = []
        for uid in members:
            rows = sorted(self.public_keys(uid), key=lambda r: links.id_key(str(r.get("public_key_version"))))
            if not rows:
                raise PlatformRejected(400, f"user {uid} has no X Chat keys: they can only get legacy DMs")
            latest = rows[-1]
            inputs.append(
                {
                    "user_id": uid,
                    "public_key": str(latest.get("public_key")),
                    "key_version": str(latest.get("public_key_version")),
                }
            )
        prep = chat.prepare_conversation_key_change(inputs, conversation_id=canonical_id(conv_id))
        body = {
            "conversation_key_version": str(prep["conversation_key_version"]),
            "conversation_participant_keys": [
                {
                    "user_id": p["user_id"],
                    "encrypted_conversation_key": p["encrypted_key"],
                    "public_key_version": p["public_key_version"],
                }
                for p in prep["participant_keys"]
            ],
            "action_signatures": [
                {
                    "message_id": s["message_id"],
                    "encoded_message_event_detail": s["encoded_message_event_detail"],
                    "message_event_signature": {
                        "signature": s["signature"],
                        "public_key_version": s["public_key_version"],
                        "signature_version": s["signature_version"],
                    },
                }
                for s in prep["action_signatures"]
            ],
        }
        request = AddConversationKeysRequest.model_validate(body)
        self._client._once(
            "chat_keys", lambda: self._client._sdk.chat.add_conversation_keys(conv_id, body=request)
        )
        return str(prep["conversation_key_version"]), bytes(prep["conversation_key"])

    def _latest_key(self, chat: Chat, conv_id: str, members: list[str], *, rotate: bool) -> tuple[str, bytes]:
        """The conversation's latest key, or a new one when there is none we can unwrap (or `rotate`)."""
        if not rotate:
            try:
                body = self._events_page(conv_id, None)
            except PlatformRejected as exc:
                if exc.status != 404:
                    raise
                body = {}  # no conversation yet: the account starts it with the first key
            meta = _obj(body.get("meta"))
            key_events = [k for k in meta.get("conversation_key_events") or [] if isinstance(k, str)]
            extracted = _obj(chat.extract_conversation_keys(key_events)) if key_events else {}
            keys = _obj(extracted.get("keys"))
            latest = extracted.get("latest_version")
            if isinstance(latest, str) and isinstance(keys.get(latest), bytes):
                return latest, bytes(keys[latest])
        return self._rotate(chat, conv_id, members)

    def _post_message(self, conv_id: str, request: SendMessageRequest) -> dict[str, Any]:
        body, _ = self._client._once(
            "chat_send", lambda: self._client._sdk.chat.send_message(conv_id, body=request)
        )
        return dict(body)

    def send(self, recipient_id: str, text: str, quick_reply: dict[str, Any] | None) -> SendResult:
        chat = self.session()
        org = self.org
        conv_id = links.dm_thread_id(org, recipient_id)
        members = [org, recipient_id]
        for attempt in range(2):
            version, key = self._latest_key(chat, conv_id, members, rotate=attempt > 0)
            payload = chat.encrypt_message(
                canonical_id(conv_id),
                text,
                conversation_key=key,
                conversation_key_version=version,
                quick_reply=cast(QuickReply, quick_reply) if quick_reply else None,
            )
            request = SendMessageRequest(
                message_id=payload.message_id,
                encoded_message_create_event=payload.encrypted_content,
                encoded_message_event_signature=payload.encoded_event_signature,
            )
            try:
                body = self._post_message(conv_id, request)
            except PlatformRejected as exc:
                if attempt == 0 and (NON_LATEST in exc.detail or "latest" in exc.detail):
                    continue  # our newest key is not the latest: rotate, then encrypt again
                raise
            data = _obj(body.get("data"))
            event = data.get("encoded_message_event")
            seq = sequence_id_of(event) if isinstance(event, str) else None
            if seq is None:
                raise PlatformRejected(502, "X Chat send answered without the message event")
            return SendResult(external_id=external_id(seq), thread_id=conv_id)
        raise PlatformRejected(400, "the conversation key kept changing while sending; try again")


def sequence_id_of(encoded_event: str) -> str | None:
    """The sequence id (field 1) at the start of a Thrift `MessageEvent`, without decrypting it."""
    try:
        data = base64.b64decode(encoded_event + "=" * (-len(encoded_event) % 4))
    except ValueError:
        return None
    # field header: type (1 byte, 11 = string), id (2 bytes, 1), length (4 bytes), then the bytes
    if len(data) < 7 or data[0] != 11 or int.from_bytes(data[1:3], "big") != 1:
        return None
    n = int.from_bytes(data[3:7], "big")
    value = data[7 : 7 + n]
    return value.decode() if len(value) == n and value.isdigit() else None
