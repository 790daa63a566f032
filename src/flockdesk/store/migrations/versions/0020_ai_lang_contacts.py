"""languages, the organisation's own contact details

- messages.lang: the language triage detected (ISO 639-1, or "und"); NULL until triaged. No index of
  its own: the inbox filters on the latest inbound message of each conversation, found by its id.
- accounts.org_contacts: the organisation's own public phones, emails and URLs, as
  {"phones": [...], "emails": [...], "urls": [...]}; triage and the reply guard treat them as public.

Revision ID: 0020
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN: in place on SQLite too (a batch copy would drop tables others reference)
    op.add_column("messages", sa.Column("lang", sa.String(8)))
    op.add_column("accounts", sa.Column("org_contacts", sa.JSON))


def downgrade() -> None:
    op.drop_column("accounts", "org_contacts")
    op.drop_column("messages", "lang")
