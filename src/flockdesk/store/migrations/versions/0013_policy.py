"""policy: what summoned the account, opt-outs, and who wrote an outbound message

- messages.mentions_account: the post tags the account (or answers it); NULL for messages stored
  before this migration (the services then judge from the kind and the text).
- messages.quoted_post_id: the post a quote quotes.
- contacts.opted_out_at / opted_out_reason: the person asked to hear no more ("stop" in a DM).
- outbox.origin: agent | automated | ai_draft.

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


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("mentions_account", sa.Boolean))
        batch.add_column(sa.Column("quoted_post_id", sa.String(512)))
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("opted_out_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("opted_out_reason", sa.Text))
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("origin", sa.String(16), nullable=False, server_default="agent"))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("origin")
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("opted_out_reason")
        batch.drop_column("opted_out_at")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("quoted_post_id")
        batch.drop_column("mentions_account")
