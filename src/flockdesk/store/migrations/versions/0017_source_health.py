"""source health: what the API refused per source, the last good poll, the account's API version

- sources.degraded: the parameters the platform refused (a 400 naming them) and what is asked instead.
- sources.last_success_at: the end of the last poll without an error.
- accounts.api_version: the OpenAPI spec the account's API host speaks (NULL: the current one).

Revision ID: 0017
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN: SQLite supports it in place; a batch copy would have to drop tables that
    # others reference
    op.add_column("sources", sa.Column("degraded", sa.JSON))
    op.add_column("sources", sa.Column("last_success_at", sa.DateTime(timezone=True)))
    op.add_column("accounts", sa.Column("api_version", sa.String(16)))


def downgrade() -> None:
    op.drop_column("accounts", "api_version")
    op.drop_column("sources", "last_success_at")
    op.drop_column("sources", "degraded")
