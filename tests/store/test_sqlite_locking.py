"""On SQLite, readers never wait for the writer (WAL, deferred read transactions), and writers take the
write lock up front (BEGIN IMMEDIATE) so read-then-write transactions cannot fail on a stale snapshot."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from flockdesk.settings import Settings
from flockdesk.store.db import make_engine, upgrade
from flockdesk.store.schema import tags


def test_a_reader_is_not_blocked_by_an_open_write_transaction(sqlite_settings: Settings) -> None:
    engine = make_engine(sqlite_settings)
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(tags.insert().values(name="before", color=""))
    with engine.begin() as writer:
        writer.execute(tags.insert().values(name="during", color=""))
        with engine.connect() as reader:  # would raise "database is locked" if reads took the write lock
            names = set(reader.execute(sa.select(tags.c.name)).scalars())
        assert names == {"before"}
    engine.dispose()


def test_concurrent_read_modify_write_transactions_all_commit(sqlite_settings: Settings) -> None:
    engine = make_engine(sqlite_settings)
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(tags.insert().values(name="counter", color="0"))
    errors: list[BaseException] = []

    def bump() -> None:
        try:
            for _ in range(20):
                with engine.begin() as conn:
                    value = int(
                        conn.execute(sa.select(tags.c.color).where(tags.c.name == "counter")).scalar_one()
                    )
                    conn.execute(tags.update().where(tags.c.name == "counter").values(color=str(value + 1)))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with engine.connect() as conn:
        assert conn.execute(sa.select(tags.c.color).where(tags.c.name == "counter")).scalar_one() == "80"
    engine.dispose()
