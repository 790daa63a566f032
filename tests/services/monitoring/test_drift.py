"""Refused request parameters are stored per source, once, and read back in order."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.connectors.base import Degradation
from flockdesk.services.monitoring import drift
from flockdesk.store.schema import sources
from tests.rows import add_source_row

A = Degradation("tweet.fields", None, "post.fields", "The query parameter [tweet.fields] is not one of [...]")
B = Degradation("post.fields", "author_id", "expansions=author_id", "invalid value 'author_id'")


def test_record_stores_what_is_new_and_keeps_when_it_was_first_seen(engine: Engine, account_id: int) -> None:
    sid = add_source_row(engine, account_id, "mentions")
    other = add_source_row(engine, account_id, "dms")
    first = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert drift.load(engine, sid) == []
    assert drift.record(engine, sid, [A], now=first) == [A]
    assert drift.record(engine, sid, [A], now=datetime(2026, 12, 2, tzinfo=UTC)) == []  # unchanged: not new
    assert drift.record(engine, sid, [A, B], now=datetime(2026, 12, 3, tzinfo=UTC)) == [B]
    assert drift.load(engine, sid) == [A, B] and drift.load(engine, other) == []
    from_db = drift.stored_at(_raw(engine, sid))
    assert [(d, at[:10] if at else None) for d, at in from_db] == [(A, "2026-12-01"), (B, "2026-12-03")]
    assert drift.record(engine, sid, []) == [] and drift.load(engine, sid) == []  # cleared


def test_unreadable_entries_are_skipped() -> None:
    raw = [{"parameter": "expansions", "value": 3}, "junk", {"value": "x"}, None]
    assert drift.from_json(raw) == [Degradation("expansions", None, None, "")]
    assert drift.from_json({"not": "a list"}) == []


def _raw(engine: Engine, sid: int) -> object:
    with engine.connect() as conn:
        return conn.execute(sa.select(sources.c.degraded).where(sources.c.id == sid)).scalar()
