from __future__ import annotations

from alembic import context

from flockdesk.store.dialect import compare_column_type
from flockdesk.store.schema import metadata

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=compare_column_type,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # a migration may rewrite a large table: the request-sized statement timeout
            # (settings.db_statement_timeout_s) does not apply to it
            connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
        context.run_migrations()
    if connection.in_transaction():
        connection.commit()
