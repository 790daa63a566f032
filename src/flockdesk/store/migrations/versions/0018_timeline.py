"""conversation history by time: the audit log lists every conversation's state changes newest first

- ix_conversation_events_at (at, id): the audit log merges `conversation_events` with `audit_events`
  in time order and pages by (at, id); without it each page sorts the whole history table.

Revision ID: 0018
Revises: 0015
"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_conversation_events_at", "conversation_events", ["at", "id"])


def downgrade() -> None:
    op.drop_index("ix_conversation_events_at", table_name="conversation_events")
