"""inbox: indexes for the views and keyset pages, full-text search over messages

Revision ID: 0002
Revises: 0001

SQLite gets an FTS5 external-content table over messages.text kept in step by triggers;
PostgreSQL a GIN index on to_tsvector('simple', text). Neither is part of the SQLAlchemy metadata.
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SQLITE_FTS = [
    "CREATE VIRTUAL TABLE messages_fts USING fts5(text, content='messages', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER messages_fts_ai AFTER INSERT ON messages BEGIN "
    "INSERT INTO messages_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER messages_fts_ad AFTER DELETE ON messages BEGIN "
    "INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER messages_fts_au AFTER UPDATE OF text ON messages BEGIN "
    "INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.id, old.text); "
    "INSERT INTO messages_fts(rowid, text) VALUES (new.id, new.text); END",
    "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')",
]
PG_FTS = [
    "CREATE INDEX ix_messages_text_fts ON messages USING gin (to_tsvector('simple', text))",
]


def upgrade() -> None:
    op.create_index("ix_conversations_status_waiting", "conversations", ["status", "waiting_since", "id"])
    op.create_index(
        "ix_conversations_status_channel_priority", "conversations", ["status", "channel", "priority", "id"]
    )
    op.create_index(
        "ix_conversations_assignee_status_priority",
        "conversations",
        ["assignee_id", "status", "priority", "id"],
    )
    op.create_index("ix_conversations_status_snoozed", "conversations", ["status", "snoozed_until"])
    op.create_index("ix_outbox_conversation", "outbox", ["conversation_id", "id"])
    bind = op.get_bind()
    statements = SQLITE_FTS if bind.dialect.name == "sqlite" else PG_FTS
    for sql in statements:
        op.execute(sql)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for name in ("messages_fts_ai", "messages_fts_ad", "messages_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS messages_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_messages_text_fts")
    op.drop_index("ix_outbox_conversation", table_name="outbox")
    op.drop_index("ix_conversations_status_snoozed", table_name="conversations")
    op.drop_index("ix_conversations_assignee_status_priority", table_name="conversations")
    op.drop_index("ix_conversations_status_channel_priority", table_name="conversations")
    op.drop_index("ix_conversations_status_waiting", table_name="conversations")
