"""SQLAlchemy Core tables: the one definition of Flockdesk's store.

Alembic migrations in store/migrations build exactly these tables; tests/store/test_migrations.py
checks that the migrated schema and this metadata agree.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from flockdesk.store.types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)

# Every point in time: stored as UTC, read back as an aware UTC datetime on both backends.
TS = UTCDateTime()
# BIGINT primary keys on PostgreSQL, INTEGER (rowid alias) on SQLite.
PK = BigInteger().with_variant(Integer(), "sqlite")
# A platform's ids and cursors (migration 0008): wide enough for X snowflakes, Mastodon ids and
# Bluesky `at://did:plc:.../app.bsky.feed.post/...` URIs.
EXTERNAL_ID_LEN = 512
# A platform handle: X's 15 characters, a Bluesky domain handle (253), a Mastodon user@instance.
HANDLE_LEN = 320

users = Table(
    "users",
    metadata,
    Column("id", PK, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False, default=""),
    Column("email", String(320)),
    Column("password_hash", String(200), nullable=False),
    Column("role", String(16), nullable=False),  # admin | manager | agent
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", TS, nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", PK, primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("token_hash", String(128), nullable=False, unique=True),
    Column("label", String(100), nullable=False, default=""),
    Column("created_at", TS, nullable=False),
    Column("last_used_at", TS),
    Column("revoked_at", TS),  # set when revoked (by its owner, a password reset or disabling the user)
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", PK, primary_key=True),
    Column("platform", String(16), nullable=False),  # x | bluesky | mastodon
    Column("external_user_id", String(EXTERNAL_ID_LEN), nullable=False),
    Column("username", String(HANDLE_LEN), nullable=False),
    Column("display_name", String(200), nullable=False, default=""),
    Column("purpose", String(16), nullable=False, default="care"),  # corporate | care | personal
    Column("base_url", String(500), nullable=False),
    Column("credentials_encrypted", LargeBinary, nullable=False),  # Fernet; never printed or logged
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", TS, nullable=False),
    # migration 0013: the X Chat private keys (chatxdk's export_keys blob), Fernet like the credentials,
    # and the public key version they are registered under. A version without a readable blob is the
    # "keys missing" state (services/accounts/xchat_keys.py).
    Column("xchat_keys_encrypted", LargeBinary),
    Column("xchat_key_version", String(32)),
    # migration 0017: the API version (OpenAPI spec) the account's API host speaks; NULL: the current one
    Column("api_version", String(16)),
    # migration 0020: the organisation's own public contact details, {"phones", "emails", "urls"}: not
    # personal data for triage and the reply guard (services/accounts/org_contacts.py)
    Column("org_contacts", JSON),
    UniqueConstraint("platform", "external_user_id", name="uq_accounts_platform_user"),
)

sources = Table(
    "sources",
    metadata,
    Column("id", PK, primary_key=True),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),  # mentions | dms | search
    Column("query", Text),  # for search sources: the normalised X query
    Column("enabled", Boolean, nullable=False, default=True),
    Column("poll_interval_s", Float, nullable=False),
    Column("next_poll_at", TS),
    Column("created_at", TS, nullable=False),
    Column("last_polled_at", TS),  # migration 0003: end of the last poll attempt
    Column("last_error", Text),  # migration 0003: why the last poll stopped early (NULL when it did not)
    Column("expected_posts_per_day", Integer),  # migration 0006 (web): the admin's estimate for a query
    # migration 0010: the worker polling the source now, until when (a lease; see store/leases.py)
    Column("lease_owner", String(200)),
    Column("leased_until", TS),
    # migration 0017: the end of the last poll that ended without an error, and the request parameters
    # the platform refused for this source with what the connector asks instead (list of objects:
    # parameter, value, replacement, detail, at); services/monitoring/drift.py
    Column("last_success_at", TS),
    Column("degraded", JSON),
    UniqueConstraint("account_id", "kind", "query", name="uq_sources_account_kind_query"),
)

# migration 0003: the platform's last x-rate-limit-* headers per account and endpoint
rate_limits = Table(
    "rate_limits",
    metadata,
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("endpoint", String(32), primary_key=True),
    Column("limit", Integer),
    Column("remaining", Integer),
    Column("reset_at", TS),
    Column("updated_at", TS, nullable=False),
)

sync_cursors = Table(
    "sync_cursors",
    metadata,
    Column("source_id", ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True),
    Column("since_id", String(EXTERNAL_ID_LEN)),  # high-water mark of a completed sweep
    Column("pending_newest_id", String(EXTERNAL_ID_LEN)),  # newest id seen in the sweep in progress
    Column("next_token", String(1024)),  # pagination token (or cursor) of the sweep in progress
    Column("updated_at", TS, nullable=False),
)

contacts = Table(
    "contacts",
    metadata,
    Column("id", PK, primary_key=True),
    Column("platform", String(16), nullable=False),
    Column("external_id", String(EXTERNAL_ID_LEN), nullable=False),
    Column("username", String(HANDLE_LEN), nullable=False, default=""),
    Column("name", Text, nullable=False, default=""),
    Column("bio", Text, nullable=False, default=""),
    Column("followers_count", Integer, nullable=False, default=0),
    Column("verified", Boolean, nullable=False, default=False),
    Column("profile", JSON),
    Column("first_seen_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    Column("host", String(255)),  # migration 0008: the contact's instance or server (Mastodon); NULL on X
    # migration 0015: the person asked to hear no more (an opt-out DM such as "stop"); permanent
    Column("opted_out_at", TS),
    Column("opted_out_reason", Text),
    UniqueConstraint("platform", "external_id", name="uq_contacts_platform_external"),
)

conversations = Table(
    "conversations",
    metadata,
    Column("id", PK, primary_key=True),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("platform", String(16), nullable=False),
    Column("kind", String(8), nullable=False),  # public | dm
    Column("channel", String(16), nullable=False),  # mention | search | dm
    Column("external_thread_id", String(EXTERNAL_ID_LEN), nullable=False),  # the platform's thread id
    Column("contact_id", ForeignKey("contacts.id")),
    Column("status", String(16), nullable=False, default="open"),  # open | snoozed | resolved
    Column("assignee_id", ForeignKey("users.id", ondelete="SET NULL")),
    Column("priority", Float, nullable=False, default=0.0),
    Column("snoozed_until", TS),
    Column("follow_up_at", TS),
    Column("linked_conversation_id", ForeignKey("conversations.id")),  # public thread <-> DM after move to DM
    Column("created_at", TS, nullable=False),
    Column("last_message_at", TS, nullable=False),
    Column("waiting_since", TS),  # oldest unanswered inbound message; NULL when answered
    Column("first_response_at", TS),
    UniqueConstraint("account_id", "kind", "external_thread_id", name="uq_conversations_thread"),
    Index("ix_conversations_status_priority", "status", "priority", "id"),
    Index("ix_conversations_status_last", "status", "last_message_at", "id"),
    Index("ix_conversations_assignee", "assignee_id", "status"),
    Index("ix_conversations_contact", "contact_id"),
    # inbox views (migration 0002)
    Index("ix_conversations_status_waiting", "status", "waiting_since", "id"),
    Index("ix_conversations_status_channel_priority", "status", "channel", "priority", "id"),
    Index("ix_conversations_assignee_status_priority", "assignee_id", "status", "priority", "id"),
    Index("ix_conversations_status_snoozed", "status", "snoozed_until"),
)

# migration 0009: every change of a conversation's state (domain/conversation_state.py), who made it
# (NULL: the system) and what changed; `detail` holds {"changes": {column: [before, after]}, ...}
conversation_events = Table(
    "conversation_events",
    metadata,
    Column("id", PK, primary_key=True),
    Column("conversation_id", ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    Column("at", TS, nullable=False),
    Column("actor_user_id", ForeignKey("users.id", ondelete="SET NULL")),
    Column("kind", String(16), nullable=False),  # domain/vocabulary.py CONVERSATION_EVENT_KINDS
    Column("from_status", String(16)),  # NULL when the event created the conversation
    Column("to_status", String(16), nullable=False),
    Column("detail", JSON),
    Index("ix_conversation_events_conversation", "conversation_id", "id"),
    Index("ix_conversation_events_at", "at", "id"),  # migration 0018: the audit log's time order
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", PK, primary_key=True),
    Column("idempotency_key", String(128), nullable=False, unique=True),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("conversation_id", ForeignKey("conversations.id")),
    Column("kind", String(16), nullable=False),  # reply | dm | public_ack | native_reply
    Column("text", Text, nullable=False),
    Column("in_reply_to_external_id", String(EXTERNAL_ID_LEN)),
    Column("recipient_external_id", String(EXTERNAL_ID_LEN)),
    # queued | sending | sent | failed | awaiting_native
    Column("status", String(16), nullable=False, default="queued"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("error", Text),
    Column("external_id", String(EXTERNAL_ID_LEN)),  # id the platform gave the sent post / DM event
    Column("created_by", ForeignKey("users.id", ondelete="SET NULL")),
    Column("created_at", TS, nullable=False),
    Column("sent_at", TS),
    Column("claimed_at", TS),  # migration 0003: when the sender moved it to 'sending'
    # (a native_reply: when the person said they posted it on the platform)
    # migration 0015: who wrote the text: agent | automated | ai_draft
    Column("origin", String(16), nullable=False, default="agent", server_default="agent"),
    # migration 0013: for a `dm` row, legacy | xchat (NULL: legacy); an X Chat quick-reply request
    Column("transport", String(8)),
    Column("quick_reply", JSON),
    Index("ix_outbox_status", "status", "id"),
    Index("ix_outbox_conversation", "conversation_id", "id"),  # migration 0002
)

messages = Table(
    "messages",
    metadata,
    Column("id", PK, primary_key=True),
    Column("conversation_id", ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    Column("platform", String(16), nullable=False),
    Column("external_id", String(EXTERNAL_ID_LEN), nullable=False),
    Column("kind", String(16), nullable=False),  # mention | reply | quote | search | dm | post
    Column("direction", String(8), nullable=False),  # in | out
    Column("author_contact_id", ForeignKey("contacts.id")),
    Column("text", Text, nullable=False),
    Column("entities", JSON),
    Column("in_reply_to_external_id", String(EXTERNAL_ID_LEN)),
    Column("created_at", TS, nullable=False),
    Column("ingested_at", TS, nullable=False),
    Column("outbox_id", ForeignKey("outbox.id")),
    Column("raw", JSON),
    # triage labels; NULL until triaged
    Column("intent", String(16)),
    Column("sentiment", String(8)),
    Column("sensitive", JSON),
    Column("move_to_dm", Boolean),
    Column("urgent", Boolean),
    Column("influencer", Boolean),
    Column("priority", Float),
    Column("hidden", Boolean),  # migration 0005: hidden on the platform; NULL = never changed
    # migration 0008: what the connector parsed besides the text (domain.types), so nothing reads `raw`
    Column("in_reply_to_user_id", String(EXTERNAL_ID_LEN)),  # whom a reply answered
    Column("engagement", JSON),  # Engagement.to_json(): likes, reposts, replies, quotes, impressions
    Column("media", JSON),  # [Media.to_json()]
    Column("links", JSON),  # [Link.to_json()]
    # migration 0015: the post tags (or answers) the account; NULL when stored before 0015
    Column("mentions_account", Boolean),
    Column("quoted_post_id", String(EXTERNAL_ID_LEN)),  # the post a quote quotes
    # migration 0013: how a DM travelled (legacy | xchat; NULL for posts) and an X Chat quick reply
    Column("transport", String(8)),
    Column("quick_reply", JSON),
    # migration 0020: the language triage detected (ISO 639-1 or "und"); NULL until triaged
    Column("lang", String(8)),
    UniqueConstraint("platform", "external_id", name="uq_messages_platform_external"),
    Index("ix_messages_conversation_created", "conversation_id", "created_at", "id"),
)

dead_letters = Table(
    "dead_letters",
    metadata,
    Column("id", PK, primary_key=True),
    Column("source_id", ForeignKey("sources.id", ondelete="SET NULL")),
    Column("origin", String(64), nullable=False),  # e.g. "x:mentions", "import:file.jsonl:12"
    Column("reason", Text, nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_at", TS, nullable=False),
    # sha256 of (origin, reason, payload): the same dead letter is stored once (migration 0007);
    # NULL only on duplicates that predate it
    Column("fingerprint", String(64)),
    Index("ix_dead_letters_fingerprint", "fingerprint", unique=True),
)

# migration 0013: how far the X Chat poll has read each encrypted conversation (the newest event id)
chat_cursors = Table(
    "chat_cursors",
    metadata,
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("conversation_id", String(EXTERNAL_ID_LEN), primary_key=True),  # the platform's id
    Column("last_event_id", String(EXTERNAL_ID_LEN), nullable=False),
    Column("updated_at", TS, nullable=False),
)

api_usage = Table(
    "api_usage",
    metadata,
    Column("id", PK, primary_key=True),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("day", String(10), nullable=False),  # UTC date YYYY-MM-DD
    Column("endpoint", String(64), nullable=False),
    Column("calls", Integer, nullable=False, default=0),
    Column("items", Integer, nullable=False, default=0),
    Column("cost_usd", Float, nullable=False, default=0.0),
    # migration 0016: the resources charged (items less those already billed that UTC day)
    Column("billed_items", Integer, nullable=False, default=0, server_default="0"),
    UniqueConstraint("account_id", "day", "endpoint", name="uq_api_usage_day_endpoint"),
)

# migration 0016: each resource the platform has billed this UTC day (X bills a resource once a day),
# so the meter holds across worker restarts and several workers; days no longer needed are pruned.
# The charge is the first read or delivery of the day (`billed_at`): who paid, on which path, how much.
billed_resources = Table(
    "billed_resources",
    metadata,
    Column("platform", String(16), primary_key=True),
    Column("day", String(10), primary_key=True),  # UTC date YYYY-MM-DD
    Column("resource", String(96), primary_key=True),  # e.g. "post:123", "dm:77", "user:9"
    Column("billed_at", TS, nullable=False),  # when the platform served it
    Column("account_id", Integer, nullable=False),  # the api_usage row that holds the charge
    Column("endpoint", String(64), nullable=False),
    Column("cost_usd", Float, nullable=False),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", PK, primary_key=True),
    Column("at", TS, nullable=False),
    Column("actor_user_id", ForeignKey("users.id", ondelete="SET NULL")),
    Column("actor", String(64), nullable=False),  # username or "system" / "worker"
    Column("action", String(64), nullable=False),
    Column("target_type", String(32)),
    Column("target_id", String(64)),
    Column("details", JSON),
    Index("ix_audit_events_at", "at"),
)

# ---- team inbox -------------------------------------------------------------------------------

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id", String(64), primary_key=True),  # sha256 of the cookie value
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", TS, nullable=False),
    Column("expires_at", TS, nullable=False),
)

login_attempts = Table(
    "login_attempts",
    metadata,
    Column("id", PK, primary_key=True),
    Column("username", String(64), nullable=False),
    Column("remote_addr", String(64), nullable=False, default=""),
    Column("success", Boolean, nullable=False),
    Column("at", TS, nullable=False),
    Index("ix_login_attempts_username_at", "username", "at"),
)

# Login throttle counters (migration 0012): one row per (scope, username, address) with the failures in
# the current window. scope "pair" is a username from one address, "user" the username from anywhere
# (address ""), "addr" one address for any username (username "").
login_throttle = Table(
    "login_throttle",
    metadata,
    Column("scope", String(8), primary_key=True),
    Column("username", String(64), primary_key=True),
    Column("remote_addr", String(64), primary_key=True),
    Column("window_start", TS, nullable=False),
    Column("failures", Integer, nullable=False),
    Index("ix_login_throttle_window_start", "window_start"),
)

oauth_states = Table(
    "oauth_states",
    metadata,
    Column("state", String(128), primary_key=True),
    Column("code_verifier", String(200), nullable=False),
    Column("base_url", String(500), nullable=False),
    Column("purpose", String(16), nullable=False, default="care"),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE")),
    Column("created_at", TS, nullable=False),
    Column("client_id", String(200), nullable=False, server_default=""),  # added by 0004 (web)
)

tags = Table(
    "tags",
    metadata,
    Column("id", PK, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("color", String(16), nullable=False, default=""),
)

conversation_tags = Table(
    "conversation_tags",
    metadata,
    Column("conversation_id", ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_conversation_tags_tag", "tag_id", "conversation_id"),
)

notes = Table(
    "notes",
    metadata,
    Column("id", PK, primary_key=True),
    Column("conversation_id", ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    Column("contact_id", ForeignKey("contacts.id")),
    Column("author_id", ForeignKey("users.id", ondelete="SET NULL")),
    Column("text", Text, nullable=False),
    Column("mentions", JSON),  # user ids @mentioned
    Column("created_at", TS, nullable=False),
    Index("ix_notes_conversation", "conversation_id", "created_at"),
)

# migration 0006 (web): who was @mentioned in a note, and when they read it (NULL = unread)
note_mentions = Table(
    "note_mentions",
    metadata,
    Column("note_id", ForeignKey("notes.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("created_at", TS, nullable=False),
    Column("read_at", TS),
    Index("ix_note_mentions_user_read", "user_id", "read_at"),
)

saved_replies = Table(
    "saved_replies",
    metadata,
    Column("id", PK, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("body", Text, nullable=False),
    Column("created_by", ForeignKey("users.id", ondelete="SET NULL")),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
)

sla_policies = Table(
    "sla_policies",
    metadata,
    Column("id", PK, primary_key=True),
    Column("channel", String(16), nullable=False, unique=True),  # mention | search | dm
    Column("first_response_minutes", Integer, nullable=False),
    Column(
        "business_hours", JSON
    ),  # {"tz": "Europe/London", "days": [0..6], "start": "09:00", "end": "17:00"}
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", PK, primary_key=True),
    Column("kind", String(32), nullable=False),  # spike
    Column("at", TS, nullable=False),
    Column("details", JSON),
    Column("acknowledged_by", ForeignKey("users.id", ondelete="SET NULL")),
    Column("delivered", Boolean, nullable=False, default=False),
)


# migration 0010: each periodic job of the worker's registry (jobs/registry.py): when it runs next and
# which worker holds it now, until when (a lease: a killed worker's jobs are taken over when it expires)
job_leases = Table(
    "job_leases",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("next_run_at", TS, nullable=False),
    Column("owner", String(200)),
    Column("leased_until", TS),
    Column("last_started_at", TS),
    Column("last_finished_at", TS),
    Column("last_error", Text),
)

# migration 0010: who views or types in a conversation (the collision warning), shared by every web
# process; rows older than the view TTL are ignored and removed by a worker job
presence = Table(
    "presence",
    metadata,
    Column("conversation_id", ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("username", String(64), nullable=False),
    Column("seen_at", TS, nullable=False),
    Column("typing_at", TS),
    Index("ix_presence_seen_at", "seen_at"),
)

# migration 0014: real-time events (services/realtime/). Per account: subscriptions made, whether the
# stream (or webhook) is delivering, when it last did, and the event lag of recent events.
realtime_accounts = Table(
    "realtime_accounts",
    metadata,
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("mode", String(16), nullable=False),  # stream | webhook
    Column("subscribed_at", TS),  # every subscription the account needs exists since then
    Column("subscription_error", Text),  # why some could not be made (the platform's words)
    Column("connected", Boolean, nullable=False, default=False),  # a stream is open / webhook valid
    Column("connected_since", TS),
    Column("last_heartbeat_at", TS),  # the delivery was last seen alive (an event or a keep-alive)
    Column("last_event_at", TS),  # when the last event arrived
    Column("last_lag_ms", Integer),  # arrival time minus the event's own time, for the last event
    Column("recent_lags_ms", JSON),  # the last REALTIME_LAG_SAMPLES lags, oldest first
    Column("last_error", Text),  # the last connection problem
    Column("revoked_at", TS),  # the owner revoked the app's access: connect the account again
    Column("updated_at", TS, nullable=False),
)

# migration 0014: webhook deliveries, queued for the worker; the unique event id refuses replays
activity_events = Table(
    "activity_events",
    metadata,
    Column("id", PK, primary_key=True),
    Column("platform", String(16), nullable=False),
    Column("event_uuid", String(128), nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("body", Text, nullable=False),  # the envelope as delivered
    Column("received_at", TS, nullable=False),
    Column("processed_at", TS),
    UniqueConstraint("platform", "event_uuid", name="uq_activity_events_platform_uuid"),
    Index("ix_activity_events_processed_at", "processed_at"),
)

# migration 0014: followers arriving and leaving (follow.follow / follow.unfollow events), kept for the
# followers feature; the event id makes a repeated delivery a no-op
follow_events = Table(
    "follow_events",
    metadata,
    Column("id", PK, primary_key=True),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("event_uuid", String(128), nullable=False),
    Column("follower_external_id", String(EXTERNAL_ID_LEN), nullable=False),
    Column("follower_username", String(HANDLE_LEN), nullable=False, default=""),
    Column("follows", Boolean, nullable=False),
    Column("occurred_at", TS),
    Column("received_at", TS, nullable=False),
    UniqueConstraint("account_id", "event_uuid", name="uq_follow_events_account_uuid"),
)

# migration 0021: the webhook registered with each platform API (base URL) for real-time delivery,
# so a restarted worker reuses it instead of registering it again
realtime_webhooks = Table(
    "realtime_webhooks",
    metadata,
    Column("id", PK, primary_key=True),
    Column("platform", String(16), nullable=False),
    Column("base_url", String(512), nullable=False),
    Column("url", String(512), nullable=False),  # where the platform delivers (this install's /webhooks/x)
    Column("webhook_id", String(64)),  # the platform's id; None until registered
    Column("valid", Boolean, nullable=False, default=False),  # answered the platform's CRC check
    Column("registered_at", TS),
    Column("checked_at", TS, nullable=False),  # the last registration attempt
    Column("last_error", Text),  # why the last attempt failed (the platform's words)
    UniqueConstraint("platform", "base_url", name="uq_realtime_webhooks_platform_base_url"),
)
