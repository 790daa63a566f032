"""policy: what summoned the account, opt-outs, and who wrote an outbound message

- messages.mentions_account: the post tags the account (or answers it); NULL for messages stored
  before this migration (the services then judge from the kind and the text).
- messages.quoted_post_id: the post a quote quotes.
- contacts.opted_out_at / opted_out_reason: the person asked to hear no more ("stop" in a DM).
- outbox.origin: agent | automated | ai_draft.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN: SQLite supports it in place; a batch copy of contacts would have to drop a
    # table that messages and conversations reference
    op.add_column("messages", sa.Column("mentions_account", sa.Boolean))
    op.add_column("messages", sa.Column("quoted_post_id", sa.String(512)))
    op.add_column("contacts", sa.Column("opted_out_at", sa.DateTime(timezone=True)))
    op.add_column("contacts", sa.Column("opted_out_reason", sa.Text))
    op.add_column("outbox", sa.Column("origin", sa.String(16), nullable=False, server_default="agent"))


def downgrade() -> None:
    # DROP COLUMN in place (SQLite 3.35+), for the same reason
    op.drop_column("outbox", "origin")
    op.drop_column("contacts", "opted_out_reason")
    op.drop_column("contacts", "opted_out_at")
    op.drop_column("messages", "quoted_post_id")
    op.drop_column("messages", "mentions_account")
