"""The listening page estimates each query's cost from its own volume: expected, then observed."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from flockdesk.services.accounts import costs, listening
from flockdesk.store.schema import api_usage, sources

from .conftest import Browser
from .seed import account, insert


def _search_source(engine, account_id: int, query: str, *, created: datetime, polled: bool = True) -> int:
    return insert(
        engine,
        sources,
        account_id=account_id,
        kind="search",
        query=query,
        enabled=True,
        poll_interval_s=60.0,
        created_at=created,
        last_polled_at=created if polled else None,
    )


def _cost_cells(html: str) -> list[str]:
    return re.findall(r'<td class="cost"[^>]*>\$([0-9.,]+)', html)


def test_each_query_shows_its_own_expected_cost(admin: Browser, engine) -> None:
    account(engine)
    r1 = admin.post("/settings/listening", {"query": "#acme", "posts_per_day": "40"})
    r2 = admin.post("/settings/listening", {"query": '"acme support"', "posts_per_day": "2,000"})
    r3 = admin.post("/settings/listening", {"query": "acmecorp"})
    assert all(r.status_code == 303 and "notice=" in r.headers["location"] for r in (r1, r2, r3))
    html = admin.client.get("/settings/listening").text
    want = [
        costs.estimate_query_monthly_cost(v, platform="x")
        for v in (40, 2000, listening.DEFAULT_POSTS_PER_DAY)
    ]
    assert _cost_cells(html) == [f"{w:.2f}" for w in want]
    assert len(set(_cost_cells(html))) == 3
    assert "(expected)" in html and "(assumed)" in html


def test_bad_volume_gets_advice_and_nothing_is_added(admin: Browser, engine) -> None:
    account(engine)
    resp = admin.post("/settings/listening", {"query": "#acme", "posts_per_day": "lots"})
    assert "error=" in resp.headers["location"] and "number" in resp.headers["location"]
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(sources)).scalar() == 0


def test_observed_volume_wins_once_a_full_day_has_run(admin: Browser, engine) -> None:
    acct = account(engine)
    now = datetime.now(UTC)
    sid = _search_source(engine, acct, "#acme", created=now - timedelta(days=10))
    listening.set_expected_volume(engine, sid, 5)
    for d, items in ((1, 300), (2, 100), (3, 200), (9, 99999)):  # day 9 is outside the 7-day window
        day = (now.date() - timedelta(days=d)).isoformat()
        insert(
            engine, api_usage, account_id=acct, day=day, endpoint="search", calls=3, items=items, cost_usd=0.0
        )
    insert(
        engine, api_usage, account_id=acct, day=now.date().isoformat(), endpoint="search", calls=1, items=7000
    )
    (q,) = listening.query_costs(engine, now=now)
    assert q.basis == "observed" and q.observed_days == 7
    assert q.observed_per_day == (300 + 100 + 200) / 7
    assert q.monthly_cost == costs.estimate_query_monthly_cost((300 + 100 + 200) / 7, platform="x")
    html = admin.client.get("/settings/listening").text
    assert "observed 86/day over 7 days" in html and "(observed)" in html


def test_new_or_shared_queries_keep_the_expected_volume(engine) -> None:
    acct = account(engine)
    now = datetime.now(UTC)
    fresh = _search_source(engine, acct, "#new", created=now - timedelta(hours=3))
    _search_source(engine, acct, "#old", created=now - timedelta(days=4))
    listening.set_expected_volume(engine, fresh, 50)
    insert(
        engine,
        api_usage,
        account_id=acct,
        day=(now.date() - timedelta(days=1)).isoformat(),
        endpoint="search",
        calls=1,
        items=900,
    )
    by_query = {q.source.query: q for q in listening.query_costs(engine, now=now)}
    assert by_query["#new"].observed_per_day is None and by_query["#new"].basis == "expected"
    assert by_query["#new"].monthly_cost == costs.estimate_query_monthly_cost(50, platform="x")
    # two queries share the account's search usage: shown, but not used as either query's own volume
    assert by_query["#old"].shared_with == 1 and by_query["#old"].observed_per_day == 300.0
    assert by_query["#old"].basis == "assumed"


def test_expected_volume_can_be_changed_and_cleared(admin: Browser, engine) -> None:
    acct = account(engine)
    sid = _search_source(engine, acct, "#acme", created=datetime.now(UTC))
    assert admin.post(f"/settings/listening/{sid}/volume", {"posts_per_day": "1000"}).status_code == 303
    assert listening.query_costs(engine)[0].monthly_cost == costs.estimate_query_monthly_cost(
        1000, platform="x"
    )
    admin.post(f"/settings/listening/{sid}/volume", {"posts_per_day": ""})
    assert listening.query_costs(engine)[0].basis == "assumed"
    bad = admin.post(f"/settings/listening/{sid}/volume", {"posts_per_day": "-3"})
    assert "error=" in bad.headers["location"]
