"""The store's datetime columns (store/types.py UTCDateTime): aware UTC back on both backends, the
instant kept for any zone, naive values refused; the bulk writers and raw reads follow the same rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.store.bulk import bulk_insert, bulk_update
from flockdesk.store.dialect import is_sqlite
from flockdesk.store.schema import api_tokens, audit_events, job_leases, metadata, users
from flockdesk.store.types import NaiveDatetimeError, UTCDateTime, utc_from_store

PARIS_SUMMER = timezone(timedelta(hours=2))
NOON_UTC = datetime(2026, 7, 1, 12, 0, 0, 123456, tzinfo=UTC)
NOON_UTC_IN_PARIS = NOON_UTC.astimezone(PARIS_SUMMER)  # 14:00:00.123456+02:00, the same instant


def _time_columns(table: sa.Table) -> list[str]:
    return [c.name for c in table.columns if isinstance(c.type, UTCDateTime)]


def _user(conn: sa.Connection, name: str = "ann", at: datetime = NOON_UTC) -> int:
    return int(
        conn.execute(
            users.insert()
            .values(username=name, name=name, password_hash="x", role="agent", active=True, created_at=at)
            .returning(users.c.id)
        ).scalar_one()
    )


def test_every_datetime_column_is_a_utc_datetime() -> None:
    plain = [
        f"{t.name}.{c.name}"
        for t in metadata.sorted_tables
        for c in t.columns
        if isinstance(c.type, sa.DateTime) and not isinstance(c.type, UTCDateTime)
    ]
    assert plain == []


def test_round_trip_gives_aware_utc_for_every_datetime_column(engine: Engine) -> None:
    t0 = NOON_UTC_IN_PARIS  # an aware value in another zone: stored as its instant
    with engine.begin() as conn:
        uid = _user(conn, at=t0)
        conn.execute(
            api_tokens.insert().values(
                user_id=uid, token_hash="h", label="l", created_at=t0, last_used_at=t0, revoked_at=t0
            )
        )
        conn.execute(
            job_leases.insert().values(
                name="job", next_run_at=t0, leased_until=t0, last_started_at=t0, last_finished_at=t0
            )
        )
        conn.execute(audit_events.insert().values(at=t0, actor="system", action="test"))
    with engine.connect() as conn:
        for table in (users, api_tokens, job_leases, audit_events):
            row = conn.execute(sa.select(table)).mappings().one()
            for name in _time_columns(table):
                value = row[name]
                assert value.tzinfo is UTC, (table.name, name, value)
                assert value == NOON_UTC
                assert (value.hour, value.microsecond) == (12, 123456)


def test_a_where_clause_compares_instants_not_wall_times(engine: Engine) -> None:
    """SQLite compares the stored text: a bound +02:00 value must be converted to UTC first."""
    with engine.begin() as conn:
        _user(conn, at=NOON_UTC)
    just_before = (NOON_UTC - timedelta(minutes=30)).astimezone(PARIS_SUMMER)  # 13:30+02:00
    with engine.connect() as conn:
        later = conn.execute(sa.select(users.c.username).where(users.c.created_at > just_before)).all()
        earlier = conn.execute(sa.select(users.c.username).where(users.c.created_at < just_before)).all()
    assert (len(later), len(earlier)) == (1, 0)


def test_a_naive_datetime_is_refused_and_nothing_is_stored(engine: Engine) -> None:
    with pytest.raises(sa.exc.StatementError) as info, engine.begin() as conn:
        _user(conn, at=datetime(2026, 7, 1, 12, 0))
    assert isinstance(info.value.orig, NaiveDatetimeError)
    assert "give it a time zone" in str(info.value.orig)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(users)).scalar() == 0


def test_sqlite_keeps_its_stored_text_format(settings: Any, engine: Engine) -> None:
    """No storage change: SQLite still holds "YYYY-MM-DD HH:MM:SS.ffffff" UTC text; a raw (text())
    read returns it as such, and utc_from_store turns it into the aware value."""
    with engine.begin() as conn:
        _user(conn, at=NOON_UTC_IN_PARIS)
    with engine.connect() as conn:
        raw = conn.execute(sa.text("SELECT created_at FROM users")).scalar_one()
    if is_sqlite(engine):
        assert raw == "2026-07-01 12:00:00.123456"
    assert utc_from_store(raw) == NOON_UTC
    assert utc_from_store(raw).tzinfo is UTC  # type: ignore[union-attr]


def test_bulk_writers_store_instants_and_refuse_naive_values(engine: Engine) -> None:
    """store/bulk.py bypasses the type's per-value hook (the ingest hot path) and applies its rule."""
    later = NOON_UTC + timedelta(hours=1)
    with engine.begin() as conn:
        bulk_insert(
            conn,
            job_leases,
            [
                {"name": "a", "next_run_at": NOON_UTC, "leased_until": None},
                {"name": "b", "next_run_at": NOON_UTC_IN_PARIS, "leased_until": later},
            ],
        )
        bulk_update(
            conn, job_leases, [{"name": "a", "leased_until": later.astimezone(PARIS_SUMMER)}], key="name"
        )
    with engine.connect() as conn:
        rows = {r.name: r for r in conn.execute(sa.select(job_leases))}
    assert rows["a"].next_run_at == rows["b"].next_run_at == NOON_UTC
    assert rows["a"].leased_until == rows["b"].leased_until == later
    assert all(r.next_run_at.tzinfo is UTC and r.leased_until.tzinfo is UTC for r in rows.values())
    for write in (
        lambda c: bulk_insert(c, job_leases, [{"name": "c", "next_run_at": datetime(2026, 7, 1, 12)}]),
        lambda c: bulk_update(
            c, job_leases, [{"name": "a", "leased_until": datetime(2026, 7, 1)}], key="name"
        ),
    ):
        with pytest.raises(NaiveDatetimeError), engine.begin() as conn:
            write(conn)
    with engine.connect() as conn:
        assert (
            conn.execute(sa.select(job_leases.c.leased_until).where(job_leases.c.name == "a")).scalar()
            == later
        )


def test_utc_from_store_reads_every_raw_form() -> None:
    assert utc_from_store(None) is None
    assert utc_from_store(datetime(2026, 7, 1, 12, 0, 0, 123456)) == NOON_UTC
    assert utc_from_store("2026-07-01 12:00:00.123456") == NOON_UTC
    assert utc_from_store("2026-07-01 14:00:00.123456+02:00") == NOON_UTC
    assert utc_from_store(NOON_UTC_IN_PARIS).tzinfo is UTC  # type: ignore[union-attr]
    with pytest.raises(TypeError):
        utc_from_store(12)
