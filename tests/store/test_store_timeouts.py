"""No request waits on the store without limit: PostgreSQL connections carry a statement timeout, and
a skippable write gives up at once when another transaction holds the lock."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.settings import Settings
from flockdesk.store.db import make_engine, try_write
from flockdesk.store.dialect import is_sqlite
from flockdesk.store.schema import tags

POSTGRES_ONLY = pytest.mark.parametrize(
    "settings", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


@POSTGRES_ONLY
def test_postgres_connections_have_the_configured_statement_timeout(settings: Settings) -> None:
    defaults = make_engine(settings)
    tuned = make_engine(settings.model_copy(update={"db_statement_timeout_s": 2.5}))
    try:
        with defaults.connect() as conn:
            assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == "15s"
        with tuned.connect() as conn:
            assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == "2500ms"
            with pytest.raises(sa.exc.OperationalError, match="statement timeout"):
                conn.exec_driver_sql("SELECT pg_sleep(5)")
    finally:
        defaults.dispose()
        tuned.dispose()


@POSTGRES_ONLY
def test_the_migrations_lifted_timeout_does_not_leak_into_the_pool(engine: Engine) -> None:
    # upgrade() ran in the fixture; the pooled connection it used keeps the configured timeout
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == "15s"


def test_try_write_skips_instead_of_waiting_for_a_held_lock(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(tags.insert().values(name="t", color="old"))
    change = tags.update().where(tags.c.name == "t").values(color="new")
    with engine.connect() as holder:
        if is_sqlite(engine):
            holder.execution_options(flockdesk_immediate=True)
        held = holder.begin()
        holder.execute(tags.update().where(tags.c.name == "t").values(color="held"))
        assert try_write(engine, change) is False
        held.rollback()
    with engine.connect() as conn:
        assert conn.execute(sa.select(tags.c.color)).scalar_one() == "old"
    assert try_write(engine, change) is True
    with engine.connect() as conn:
        assert conn.execute(sa.select(tags.c.color)).scalar_one() == "new"
    if is_sqlite(engine):  # the connection's own busy timeout is back for every other write
        with engine.connect() as conn:
            busy = conn.connection.driver_connection.execute("PRAGMA busy_timeout").fetchone()[0]  # type: ignore[union-attr]
        assert busy == 10000
