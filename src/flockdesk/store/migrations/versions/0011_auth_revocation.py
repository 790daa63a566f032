"""team: sessions and API tokens revoked on password reset and re-enable

API tokens get `revoked_at`: a token is revoked (not deleted) by its owner, by a password reset and by
disabling its user, so re-enabling the user revives nothing and the row stays for the audit trail.
Tokens revoked before this revision were deleted, so existing rows all stay live.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # Revoked tokens must not come back to life when the column goes away.
    op.execute(sa.text("DELETE FROM api_tokens WHERE revoked_at IS NOT NULL"))
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("revoked_at")
