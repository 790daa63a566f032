"""web: per-user read state of @mentions in notes; a listening query's expected posts per day

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "note_mentions",
        sa.Column("note_id", PK, nullable=False),
        sa.Column("user_id", PK, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["note_id"], ["notes.id"], name="fk_note_mentions_note_id_notes", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_note_mentions_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("note_id", "user_id", name="pk_note_mentions"),
    )
    op.create_index("ix_note_mentions_user_read", "note_mentions", ["user_id", "read_at"])
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("expected_posts_per_day", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("expected_posts_per_day")
    op.drop_index("ix_note_mentions_user_read", table_name="note_mentions")
    op.drop_table("note_mentions")
