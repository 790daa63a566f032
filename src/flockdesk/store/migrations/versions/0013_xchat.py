"""x chat: the brand's encrypted key blob, per-conversation cursors, and each DM's transport

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

EXTERNAL_ID_LEN = 512


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("xchat_keys_encrypted", sa.LargeBinary))
        batch.add_column(sa.Column("xchat_key_version", sa.String(32)))
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("transport", sa.String(8)))
        batch.add_column(sa.Column("quick_reply", sa.JSON))
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("transport", sa.String(8)))
        batch.add_column(sa.Column("quick_reply", sa.JSON))
    op.create_table(
        "chat_cursors",
        sa.Column(
            "account_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.ForeignKey("accounts.id", ondelete="CASCADE", name="fk_chat_cursors_account_id_accounts"),
            primary_key=True,
        ),
        sa.Column("conversation_id", sa.String(EXTERNAL_ID_LEN), primary_key=True),
        sa.Column("last_event_id", sa.String(EXTERNAL_ID_LEN), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "conversation_id", name="pk_chat_cursors"),
    )


def downgrade() -> None:
    # plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a batch copy of `accounts` would drop the table,
    # and its ON DELETE CASCADE would empty the conversations and messages under it
    op.drop_table("chat_cursors")
    for table, column in (
        ("outbox", "quick_reply"),
        ("outbox", "transport"),
        ("messages", "quick_reply"),
        ("messages", "transport"),
        ("accounts", "xchat_key_version"),
        ("accounts", "xchat_keys_encrypted"),
    ):
        op.drop_column(table, column)
