from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from flockdesk.store.db import current_revision
from flockdesk.store.dialect import compare_column_type
from flockdesk.store.schema import metadata

RAW_INDEXES = {"ix_messages_text_fts"}


def test_migrations_build_the_schema_the_code_declares(engine: sa.Engine) -> None:
    assert current_revision(engine) is not None
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": compare_column_type})
        diff = compare_metadata(context, metadata)
    # FTS virtual tables and other raw-SQL objects are not part of the metadata; ignore removals of them.
    diff = [d for d in diff if not (isinstance(d, tuple) and d[0] == "remove_table")]
    # The PostgreSQL full-text GIN index (migration 0002) is raw SQL too.
    diff = [
        d for d in diff if not (isinstance(d, tuple) and d[0] == "remove_index" and d[1].name in RAW_INDEXES)
    ]
    assert diff == []


def test_message_is_unique_per_platform_and_external_id(engine: sa.Engine) -> None:
    names = {c["name"] for c in sa.inspect(engine).get_unique_constraints("messages")}
    assert "uq_messages_platform_external" in names


def test_sqlite_alone_ignores_declared_varchar_lengths(engine: sa.Engine) -> None:
    """SQLite does not enforce VARCHAR lengths (migration 0008 widens ids on PostgreSQL only); every
    other type difference, and lengths on PostgreSQL, still count."""
    col = sa.Column("external_id", sa.String(512))
    with engine.connect() as conn:
        context = MigrationContext.configure(conn)
        widened = compare_column_type(context, col, col, sa.VARCHAR(64), sa.String(512))
        retyped = compare_column_type(context, col, col, sa.VARCHAR(64), sa.Integer())
    assert widened is (False if engine.dialect.name == "sqlite" else None)  # None: alembic compares
    assert retyped is None
