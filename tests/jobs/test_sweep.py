from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.jobs.pacing import Pacer
from flockdesk.jobs.sweep import Sweeper
from flockdesk.services.ingest.cursors import load_cursor
from flockdesk.services.ingest.ingestor import Ingestor
from flockdesk.store.schema import messages, sources
from tests.rows import ORG, FakeConnector, add_source_row, count


def _source(engine: Engine, sid: int) -> sa.RowMapping:
    with engine.connect() as conn:
        return conn.execute(sa.select(sources).where(sources.c.id == sid)).mappings().one()


def _sweeper(engine: Engine) -> Sweeper:
    return Sweeper(engine, Ingestor(engine), Pacer(), stop=threading.Event(), clock=time.time)


def test_sweep_follows_pagination_and_advances_since_id_at_the_end(engine: Engine, account_id: int) -> None:
    sid = add_source_row(engine, account_id, "mentions")
    fake = FakeConnector(ids=list(range(101, 111)), page_size=3)
    out = _sweeper(engine).sweep(_source(engine, sid), ORG, fake)
    assert out.state == "done" and out.pages == 4 and out.items == 10
    assert load_cursor(engine, sid) == ("110", None, None)
    assert count(engine, messages) == 10
    fake.ids += [111, 112]
    fake.calls.clear()
    out = _sweeper(engine).sweep(_source(engine, sid), ORG, fake)
    assert out.items == 2 and fake.calls == [("110", None)]
    assert load_cursor(engine, sid)[0] == "112"


def test_a_crash_mid_sweep_resumes_from_the_stored_page(engine: Engine, account_id: int) -> None:
    sid = add_source_row(engine, account_id, "mentions")
    crashing = FakeConnector(ids=list(range(101, 111)), page_size=3, fail_after=2)
    with pytest.raises(RuntimeError):
        _sweeper(engine).sweep(_source(engine, sid), ORG, crashing)
    since, pending, token = load_cursor(engine, sid)
    assert since is None and pending == "110" and token == "105"  # two pages stored with their cursor
    assert count(engine, messages) == 6
    resumed = FakeConnector(ids=list(range(101, 111)) + [111], page_size=3)
    out = _sweeper(engine).sweep(_source(engine, sid), ORG, resumed)
    assert resumed.calls[0] == (None, "105")  # picks up where it stopped, not from the top
    assert out.state == "done"
    assert count(engine, messages) == 10  # 111 arrived after the sweep began: the next sweep gets it
    assert load_cursor(engine, sid) == ("110", None, None)
    _sweeper(engine).sweep(_source(engine, sid), ORG, resumed)
    assert count(engine, messages) == 11


def test_rate_limited_endpoint_defers_the_sweep(engine: Engine, account_id: int) -> None:
    sid = add_source_row(engine, account_id, "mentions")
    sw = _sweeper(engine)
    sw.pacer.blocked(account_id, "mentions", time.time() + 60)
    fake = FakeConnector(ids=[1, 2])
    out = sw.sweep(_source(engine, sid), ORG, fake)
    assert out.state == "deferred" and out.retry_at is not None and out.retry_at > time.time() + 50
    assert fake.calls == []
