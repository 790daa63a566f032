"""Pydantic models of the REST API (the OpenAPI document is generated from them)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from flockdesk.domain.vocabulary import (
    CHANNELS,
    CONVERSATION_KINDS,
    CONVERSATION_STATUSES,
    OUTBOX_KINDS,
    OUTBOX_STATUSES,
    ROLES,
)


def _one_of(words: tuple[str, ...]) -> str:
    return " | ".join(words)


class Orm(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class SlaClockOut(Orm):
    state: str
    waited_minutes: float
    target_minutes: int
    color: str


class InboxRowOut(Orm):
    conversation_id: int
    account_id: int
    kind: str = Field(description=_one_of(CONVERSATION_KINDS))
    channel: str = Field(description=_one_of(CHANNELS))
    status: str = Field(description=_one_of(CONVERSATION_STATUSES))
    contact_name: str
    contact_username: str
    snippet: str
    waiting_since: datetime | None
    sla: SlaClockOut
    assignee_id: int | None
    assignee_username: str | None
    tags: list[str]
    intent: str | None
    sentiment: str | None
    sensitive: list[str]
    urgent: bool
    influencer: bool
    priority: float
    last_message_at: datetime | None
    lang: str | None = Field(None, description='latest inbound message\'s language, ISO 639-1 or "und"')


class ConversationPage(BaseModel):
    items: list[InboxRowOut]
    next_cursor: str | None = Field(description="pass back as ?cursor= for the next page")


class ConversationOut(Orm):
    id: int
    account_id: int
    kind: str
    channel: str
    status: str
    assignee_id: int | None
    assignee_username: str | None
    priority: float
    snoozed_until: datetime | None
    follow_up_at: datetime | None
    linked_conversation_id: int | None
    waiting_since: datetime | None
    last_message_at: datetime | None
    created_at: datetime | None
    contact_id: int | None


class ConversationDetail(BaseModel):
    conversation: ConversationOut
    tags: list[str]


class ThreadItemOut(Orm):
    type: str = Field(description="message | note | outbox")
    id: int
    at: datetime | None
    text: str
    direction: str
    kind: str
    author_name: str = ""
    author_username: str = ""
    status: str | None = None
    error: str | None = None
    outbox_id: int | None = None
    intent: str | None = None
    sentiment: str | None = None
    sensitive: list[str] = []
    urgent: bool | None = None
    move_to_dm: bool | None = None
    lang: str | None = Field(None, description='detected language, ISO 639-1 or "und"')


class ContactConversationOut(Orm):
    id: int
    kind: str
    channel: str
    status: str
    last_message_at: datetime | None


class NoteOut(Orm):
    id: int
    author_username: str
    text: str
    created_at: datetime | None


class ContactOut(Orm):
    id: int
    platform: str
    external_id: str
    name: str
    username: str
    bio: str
    followers_count: int
    verified: bool
    first_seen_at: datetime | None
    conversations: list[ContactConversationOut]
    tags: list[str]
    notes: list[NoteOut]


class ReplyIn(BaseModel):
    text: str = Field(min_length=1, max_length=20_000)
    override_guard: bool = Field(False, description="post a public reply the guard flagged (audited)")
    idempotency_key: str | None = Field(None, max_length=100)
    ai_drafted: bool = Field(
        False, description="the text began as an AI draft that this person reviewed (audited as AI-drafted)"
    )


class OutboxOut(Orm):
    id: int
    idempotency_key: str
    conversation_id: int | None
    kind: str
    text: str
    status: str = Field(description=_one_of(OUTBOX_STATUSES))
    attempts: int
    error: str | None
    external_id: str | None
    created_at: datetime | None
    sent_at: datetime | None


class NativeReplyOut(BaseModel):
    """A reply a person posts on the platform itself ("Reply on X"): the platform's rules keep it from
    the API, so Flockdesk keeps the draft and gives the link that opens the platform's composer."""

    outbox: OutboxOut = Field(
        description="kind native_reply; status awaiting_native until the post is matched, then sent"
    )
    intent_link: str = Field(
        description="opens the platform's composer as a reply to the post, with the text"
    )
    confirmed: bool = Field(description="the person said they posted it; the worker now looks for it")


class AssignIn(BaseModel):
    assignee_id: int | None = Field(None, description="user id; null unassigns")
    me: bool = Field(False, description="assign to the caller (ignores assignee_id)")


class CheckReplyIn(BaseModel):
    text: str = Field(max_length=20_000)
    kind: str = Field("reply", description=_one_of(OUTBOX_KINDS))
    conversation_id: int | None = Field(
        None, description="the conversation replied to: its account's own contact details are allowed"
    )


class CheckReplyOut(BaseModel):
    flagged: bool
    asks_for_sensitive: bool
    contains_sensitive: list[str]
    advice: str
    weighted_length: int
    limit: int
    valid: bool


class TokenIn(BaseModel):
    label: str = Field("", max_length=100)


class TokenOut(BaseModel):
    id: int | None = None
    token: str = Field(description="shown once; only a hash is stored")
    label: str


class Problem(BaseModel):
    detail: str
    reason: str | None = None


class UserOut(Orm):
    id: int
    username: str
    name: str
    role: str
    active: bool


class UserIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=8, max_length=200)
    role: str = Field("agent", description=_one_of(ROLES))
    name: str = Field("", max_length=200)


class AuditOut(Orm):
    id: int
    at: datetime
    actor: str
    action: str
    target_type: str | None
    target_id: str | None
    details: dict[str, object] | None


class DraftSuggestionOut(BaseModel):
    text: str = Field(description="the model's draft: a suggestion only, never queued")
    kind: str
    flagged: bool = Field(description="the reply guard flags the draft")
    asks_for_sensitive: bool
    contains_sensitive: list[str]
    advice: str
    policy_message: str | None = Field(description="why the platform's policy would not let the API send it")
    weighted_length: int
    limit: int
    valid: bool
    ai_drafted: bool = True


class SummaryOut(BaseModel):
    summary: str
