"""webhook registration: the webhook each platform API holds for this install's real-time delivery

Revision ID: 0021
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "realtime_webhooks",
        sa.Column("id", PK, primary_key=True),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("base_url", sa.String(512), nullable=False),
        sa.Column("url", sa.String(512), nullable=False),
        sa.Column("webhook_id", sa.String(64)),
        sa.Column("valid", sa.Boolean, nullable=False),
        sa.Column("registered_at", TS),
        sa.Column("checked_at", TS, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_realtime_webhooks"),
        sa.UniqueConstraint("platform", "base_url", name="uq_realtime_webhooks_platform_base_url"),
    )


def downgrade() -> None:
    op.drop_table("realtime_webhooks")
