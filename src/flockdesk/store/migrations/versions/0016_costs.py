"""costs: X's billing rules in the meter

- billed_resources: each resource billed this UTC day (platform, day, resource) with the charge (when,
  which account and endpoint, how much), so a resource read twice in a day is billed once, across
  worker restarts and several workers.
- api_usage.billed_items: how many of a call's items were charged (the rest were billed earlier that day).

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "billed_resources",
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("resource", sa.String(96), nullable=False),
        sa.Column("billed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("endpoint", sa.String(64), nullable=False),
        sa.Column("cost_usd", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("platform", "day", "resource", name=op.f("pk_billed_resources")),
    )
    # plain ADD COLUMN (SQLite supports it in place)
    op.add_column("api_usage", sa.Column("billed_items", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    op.drop_column("api_usage", "billed_items")
    op.drop_table("billed_resources")
