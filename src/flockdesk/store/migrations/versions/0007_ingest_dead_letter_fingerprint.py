"""ingest: dead letters are idempotent: a fingerprint of (origin, reason, payload), unique

Re-importing a file used to add the same dead letter again each time. Existing rows get their
fingerprint; when the store already holds duplicates, the first of each keeps it and the others keep
NULL (nothing stored is deleted; NULLs do not collide in a unique index on SQLite or PostgreSQL).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _fingerprint(origin: str, reason: str, payload: str) -> str:
    # the same rule as flockdesk.services.ingest.write.dead_letter_fingerprint, frozen here
    return hashlib.sha256("\x00".join((origin, reason, payload)).encode()).hexdigest()


def upgrade() -> None:
    with op.batch_alter_table("dead_letters") as batch:
        batch.add_column(sa.Column("fingerprint", sa.String(64), nullable=True))
    conn = op.get_bind()
    table = sa.table(
        "dead_letters",
        sa.column("id", sa.BigInteger),
        sa.column("origin", sa.String),
        sa.column("reason", sa.Text),
        sa.column("payload", sa.Text),
        sa.column("fingerprint", sa.String),
    )
    seen: set[str] = set()
    rows = conn.execute(
        sa.select(table.c.id, table.c.origin, table.c.reason, table.c.payload).order_by(table.c.id)
    )
    updates = []
    for row in rows:
        fp = _fingerprint(row.origin, row.reason, row.payload)
        if fp not in seen:
            seen.add(fp)
            updates.append({"row_id": row.id, "fp": fp})
    if updates:
        conn.execute(
            table.update().where(table.c.id == sa.bindparam("row_id")).values(fingerprint=sa.bindparam("fp")),
            updates,
        )
    op.create_index("ix_dead_letters_fingerprint", "dead_letters", ["fingerprint"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_dead_letters_fingerprint", table_name="dead_letters")
    with op.batch_alter_table("dead_letters") as batch:
        batch.drop_column("fingerprint")
