"""Flockdesk's vocabulary: every closed set of words the store, the services and the pages share.

Each set is a `Literal` type for mypy and a tuple derived from it for runtime checks, so a new word
is added in one place. The store keeps these as plain strings (no CHECK constraints): a word added
here needs no migration.
"""

from __future__ import annotations

from typing import Literal, get_args

Platform = Literal["x", "bluesky", "mastodon"]
PLATFORMS: tuple[Platform, ...] = get_args(Platform)

# A conversation (and the thread an inbound item belongs to) is public or a direct message.
ConversationKind = Literal["public", "dm"]
CONVERSATION_KINDS: tuple[ConversationKind, ...] = get_args(ConversationKind)

# Where a conversation came from: an @mention (or a quote of the account's post), a listening (search)
# query, or a DM. A post that tags the account is a mention whichever source found it first.
Channel = Literal["mention", "search", "dm"]
CHANNELS: tuple[Channel, ...] = get_args(Channel)

# What a stored message is; `post` and `dm` are the organisation's own (direction "out"). `quote`: a
# post quoting one of the account's posts; `search`: a listening hit that does not tag the account.
MessageKind = Literal["mention", "reply", "quote", "search", "dm", "post"]
MESSAGE_KINDS: tuple[MessageKind, ...] = get_args(MessageKind)

Direction = Literal["in", "out"]
DIRECTIONS: tuple[Direction, ...] = get_args(Direction)

# What an outbox row sends: a public reply, a DM, or the public "let's take this to DM" acknowledgement,
# all through the platform's API; or a `native_reply`, drafted here and posted by a person on the
# platform itself (a reply the platform's rules keep from the API), never sent by the API.
OutboxKind = Literal["reply", "dm", "public_ack", "native_reply"]
OUTBOX_KINDS: tuple[OutboxKind, ...] = get_args(OutboxKind)
PUBLIC_OUTBOX_KINDS: tuple[OutboxKind, ...] = ("reply", "public_ack")  # sent through the post API

# `awaiting_native`: a native reply a person is to post (or said they posted) on the platform; it
# becomes `sent` when the account's own post comes back and matches it.
OutboxStatus = Literal["queued", "sending", "sent", "failed", "awaiting_native"]
OUTBOX_STATUSES: tuple[OutboxStatus, ...] = get_args(OutboxStatus)
LIVE_OUTBOX_STATUSES: tuple[OutboxStatus, ...] = ("queued", "sending", "sent", "awaiting_native")

# Who wrote an outbox row's text: an agent, an automation (the opt-out acknowledgement), or an AI draft
# (posted only after a person sends it).
OutboxOrigin = Literal["agent", "automated", "ai_draft"]
OUTBOX_ORIGINS: tuple[OutboxOrigin, ...] = get_args(OutboxOrigin)

# The kinds of outbound text the length rules know: any post, or one of the outbox kinds.
TextKind = Literal["post", "reply", "public_ack", "dm", "native_reply"]
TEXT_KINDS: tuple[TextKind, ...] = get_args(TextKind)

# How a DM travelled: X's legacy DM API or X Chat (end-to-end encrypted). One DM conversation per
# customer holds both; each message and each outgoing DM records its own.
Transport = Literal["legacy", "xchat"]
TRANSPORTS: tuple[Transport, ...] = get_args(Transport)

# What a source polls (`xchat`: the account's encrypted X Chat conversations).
SourceKind = Literal["mentions", "dms", "search", "xchat"]
SOURCE_KINDS: tuple[SourceKind, ...] = get_args(SourceKind)

ConversationStatus = Literal["open", "snoozed", "resolved"]
CONVERSATION_STATUSES: tuple[ConversationStatus, ...] = get_args(ConversationStatus)

# Team roles, lowest first.
Role = Literal["agent", "manager", "admin"]
ROLES: tuple[Role, ...] = ("admin", "manager", "agent")  # the order pages list them in
ROLE_RANK: dict[str, int] = {role: rank for rank, role in enumerate(get_args(Role))}

# Triage labels.
Intent = Literal["complaint", "question", "request", "praise", "lead", "feedback", "spam", "other"]
INTENTS: tuple[Intent, ...] = get_args(Intent)
Sentiment = Literal["negative", "neutral", "positive"]
SENTIMENTS: tuple[Sentiment, ...] = get_args(Sentiment)
# The label columns every inbound message carries (NULL until triaged).
LABEL_KEYS = ("intent", "sentiment", "sensitive", "move_to_dm", "urgent", "influencer", "priority")

# What changed a conversation's state (the `kind` of a conversation_events row).
ConversationEventKind = Literal[
    "created",  # ingest or move to DM made the conversation
    "inbound",  # new customer messages arrived (ingest)
    "outbound",  # the organisation's own messages arrived through the API (ingest: echoes)
    "reply_sent",  # the outbox sent a reply or DM in it
    "move_to_dm",  # an agent moved it to DM (on the public conversation and on the DM one)
    "snooze",
    "follow_up",
    "resolve",
    "reopen",
    "assign",
    "unassign",
    "wake",  # a snooze or follow-up came due
    "tag",  # an agent tagged it (detail: {"tag": name}; tags are not state columns)
    "untag",
    "relabel",  # triage labels filled in later raised its priority (ingest/labels.py)
]
CONVERSATION_EVENT_KINDS: tuple[ConversationEventKind, ...] = get_args(ConversationEventKind)
