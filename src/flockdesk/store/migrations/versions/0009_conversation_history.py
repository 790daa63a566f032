"""conversations: the history of state changes (who, when, from, to)

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # History starts here: conversations that exist already get their first row at their next change.
    op.create_table(
        "conversation_events",
        sa.Column("id", PK, nullable=False),
        sa.Column("conversation_id", PK, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_user_id", PK, nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_conversation_events_conversation_id_conversations",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["actor_user_id"],
            ["users.id"],
            name="fk_conversation_events_actor_user_id_users",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_conversation_events"),
    )
    op.create_index("ix_conversation_events_conversation", "conversation_events", ["conversation_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_conversation_events_conversation", table_name="conversation_events")
    op.drop_table("conversation_events")
