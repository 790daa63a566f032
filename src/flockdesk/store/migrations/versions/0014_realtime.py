"""realtime: X Activity API state per account, queued webhook deliveries, follower events

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "realtime_accounts",
        sa.Column(
            "account_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.ForeignKey("accounts.id", ondelete="CASCADE", name="fk_realtime_accounts_account_id_accounts"),
            primary_key=True,
        ),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("subscribed_at", TS),
        sa.Column("subscription_error", sa.Text),
        sa.Column("connected", sa.Boolean, nullable=False),
        sa.Column("connected_since", TS),
        sa.Column("last_heartbeat_at", TS),
        sa.Column("last_event_at", TS),
        sa.Column("last_lag_ms", sa.Integer),
        sa.Column("recent_lags_ms", sa.JSON),
        sa.Column("last_error", sa.Text),
        sa.Column("revoked_at", TS),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("account_id", name="pk_realtime_accounts"),
    )
    op.create_table(
        "activity_events",
        sa.Column("id", PK, primary_key=True),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("event_uuid", sa.String(128), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("processed_at", TS),
        sa.PrimaryKeyConstraint("id", name="pk_activity_events"),
        sa.UniqueConstraint("platform", "event_uuid", name="uq_activity_events_platform_uuid"),
    )
    op.create_index("ix_activity_events_processed_at", "activity_events", ["processed_at"])
    op.create_table(
        "follow_events",
        sa.Column("id", PK, primary_key=True),
        sa.Column(
            "account_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.ForeignKey("accounts.id", ondelete="CASCADE", name="fk_follow_events_account_id_accounts"),
            nullable=False,
        ),
        sa.Column("event_uuid", sa.String(128), nullable=False),
        sa.Column("follower_external_id", sa.String(512), nullable=False),
        sa.Column("follower_username", sa.String(320), nullable=False),
        sa.Column("follows", sa.Boolean, nullable=False),
        sa.Column("occurred_at", TS),
        sa.Column("received_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_follow_events"),
        sa.UniqueConstraint("account_id", "event_uuid", name="uq_follow_events_account_uuid"),
    )


def downgrade() -> None:
    op.drop_table("follow_events")
    op.drop_index("ix_activity_events_processed_at", table_name="activity_events")
    op.drop_table("activity_events")
    op.drop_table("realtime_accounts")
