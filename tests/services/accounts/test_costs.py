from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.connectors import registry
from flockdesk.connectors.x.pricing import UNIT_PRICES, read_resources
from flockdesk.services.accounts import costs
from flockdesk.settings import Settings
from flockdesk.store.db import make_engine
from flockdesk.store.schema import accounts, billed_resources, sources
from tests.rows import add_source_row

AT = datetime(2026, 11, 10, 12, tzinfo=UTC)


def test_unit_prices_follow_the_pay_per_use_table() -> None:
    x = registry.profile("x")
    assert x.call_cost("search", 10) == pytest.approx(10 * UNIT_PRICES["post_read"])
    assert x.call_cost("mentions", 10) == pytest.approx(10 * UNIT_PRICES["owned_read"])
    # reading the account's own posts back (the outbox's check for a lost answer) is an owned read
    assert x.call_cost("own_posts", 3) == pytest.approx(3 * 0.001)
    assert x.call_cost("dm_events", 3) == pytest.approx(3 * UNIT_PRICES["dm_event_read"])
    assert x.call_cost("post_create", 1) == UNIT_PRICES["post_create"]
    assert x.call_cost("post_create", 1, has_url=True) == UNIT_PRICES["post_create_with_url"]
    assert x.call_cost("post_create", 0) == 0.0  # a refused post costs nothing
    assert x.call_cost("post_create", 1, reply=True) == UNIT_PRICES["summoned_reply"] == 0.010
    assert x.call_cost("post_create", 1, reply=True, has_url=True) == UNIT_PRICES["post_create_with_url"]
    assert x.call_cost("token", 1) == 0.0
    # per resource: included users are user reads, except on an owned timeline; X Chat reads are free
    assert x.resource_cost("search", "post:1") == 0.005 and x.resource_cost("search", "user:2") == 0.010
    assert x.resource_cost("mentions", "post:1") == x.resource_cost("mentions", "user:2") == 0.001
    assert x.resource_cost("dm_events", "dm:3") == 0.010 and x.resource_cost("dm_events", "user:2") == 0.010
    assert x.resource_cost("chat_events", "chat:4") == 0.0
    assert (
        x.resource_cost("event_post", "post:1") == 0.005 and x.resource_cost("event_chat", "chat:4") == 0.010
    )


def test_the_connector_names_every_resource_a_read_returned() -> None:
    body = {
        "data": [{"id": "11", "author_id": "2"}, {"id": "12", "author_id": "2"}],
        "includes": {"users": [{"id": "2"}], "tweets": [{"id": "9"}, {"id": "11"}]},
        "meta": {"result_count": 2},
    }
    assert read_resources("search", body) == ("post:11", "post:12", "user:2", "post:9")
    assert read_resources("dm_events", {"data": [{"id": "7"}]}) == ("dm:7",)
    assert read_resources("users_me", {"data": {"id": "1"}}) == ("user:1",)
    assert read_resources("post_create", {"data": {"id": "5"}}) == ()


def test_a_resource_read_twice_in_a_utc_day_is_billed_once_across_restarts_and_workers(
    engine: Engine, settings: Settings, account_id: int
) -> None:
    """The observed defect: every DM poll re-read the same DM events and each poll was billed again."""
    dms = [f"dm:{i}" for i in range(35)] + ["user:500", "user:501"]
    first = costs.record_call(engine, account_id, "dm_events", 35, resources=dms, at=AT)
    assert first == pytest.approx(37 * 0.010)
    other = make_engine(settings)  # another worker (or this one after a restart) on the same store
    try:
        for minute in range(1, 426):
            again = costs.record_call(
                other, account_id, "dm_events", 35, resources=dms, at=AT + timedelta(minutes=minute % 600)
            )
            assert again == 0.0
    finally:
        other.dispose()
    by = {row["endpoint"]: row for row in costs.usage_by_endpoint(engine, today=AT.date())}
    assert by["dm_events"]["calls"] == 426 and by["dm_events"]["items"] == 426 * 35
    assert by["dm_events"]["billed"] == 37 and by["dm_events"]["cost_usd"] == pytest.approx(0.37)
    # a post read first as an owned mention costs nothing more when search finds it the same day
    assert costs.record_call(engine, account_id, "mentions", 1, resources=["post:1", "user:500"], at=AT) == (
        pytest.approx(0.001)
    )
    assert costs.record_call(engine, account_id, "search", 2, resources=["post:1", "post:2"], at=AT) == (
        pytest.approx(0.005)
    )
    # the next UTC day bills them again
    next_day = AT + timedelta(days=1)
    assert costs.record_call(engine, account_id, "dm_events", 35, resources=dms, at=next_day) == (
        pytest.approx(0.37)
    )


def test_billed_resources_are_kept_for_today_and_yesterday_only(engine: Engine, account_id: int) -> None:
    for days in (0, 1, 2, 5):
        costs.record_call(engine, account_id, "search", 1, resources=["post:1"], at=AT + timedelta(days=days))
    with engine.connect() as conn:
        kept = sorted(conn.execute(sa.select(billed_resources.c.day)).scalars())
    assert kept == [(AT + timedelta(days=5)).date().isoformat()]  # day 4 had nothing billed
    costs.record_call(engine, account_id, "search", 1, resources=["post:2"], at=AT + timedelta(days=6))
    with engine.connect() as conn:
        kept = sorted(conn.execute(sa.select(billed_resources.c.day)).scalars())
    assert kept == [(AT + timedelta(days=d)).date().isoformat() for d in (5, 6)]


def test_spend_summary_per_account_and_source(engine: Engine, account_id: int) -> None:
    yesterday = AT - timedelta(days=1)
    costs.record_call(engine, account_id, "search", 2, resources=["post:1", "post:2"], at=yesterday)
    costs.record_call(engine, account_id, "mentions", 1, resources=["post:3"], at=AT)
    costs.record_call(engine, account_id, "event_dm", 1, resources=["dm:4"], at=AT)
    costs.record_call(engine, account_id, "post_create", 1, reply=True, at=AT)
    costs.record_call(engine, account_id, "search", 1, resources=["post:9"], at=AT - timedelta(days=40))
    summary = costs.spend_summary(engine, account_id, today=AT.date())
    assert (summary.day, summary.month) == ("2026-11-10", "2026-11")
    assert summary.today_usd == pytest.approx(0.001 + 0.010 + 0.010)
    assert summary.month_usd == pytest.approx(summary.today_usd + 0.010)
    assert summary.by_source["search"] == costs.SourceSpend(0.0, 0.01, 0, 2)
    assert summary.by_source["real time"].today_usd == pytest.approx(0.010)
    assert summary.by_source["sends"].billed_today == 1
    assert set(summary.by_source) == {"search", "mentions", "real time", "sends"}
    assert costs.spend_summary(engine, account_id + 1, today=AT.date()).month_usd == 0.0


def test_calls_accumulate_per_day_and_endpoint(engine: Engine, account_id: int) -> None:
    at = datetime(2026, 11, 10, 12, tzinfo=UTC)
    costs.record_call(engine, account_id, "search", 100, at=at)
    costs.record_call(engine, account_id, "search", 40, at=at)
    costs.record_call(engine, account_id, "dm_events", 5, at=at)
    est = costs.estimate_month(engine, 100.0, today=date(2026, 11, 10))
    assert est.calls == 3 and est.items == 145
    assert est.spent_usd == pytest.approx(140 * 0.005 + 5 * 0.010)
    assert est.projected_usd == pytest.approx(est.spent_usd / 10 * 30)
    by = {row["endpoint"]: row for row in costs.usage_by_endpoint(engine, today=date(2026, 11, 10))}
    assert by["search"]["calls"] == 2 and by["search"]["items"] == 140
    other_month = costs.estimate_month(engine, 100.0, today=date(2026, 12, 1))
    assert other_month.calls == 0


def _estimate(spent: float, projected: float, budget: float = 100.0) -> costs.MonthEstimate:
    return costs.MonthEstimate("2026-11", 1, 1, spent, projected, budget)


def test_budget_policy_slows_then_stops_reads_but_not_dms() -> None:
    assert costs.polling_multiplier(_estimate(10, 50), "search") == 1.0
    mid = costs.polling_multiplier(_estimate(30, 90), "mentions")
    assert mid is not None and 1.0 < mid < costs.MAX_SLOWDOWN
    over = costs.polling_multiplier(_estimate(60, 120), "search")
    assert over is not None and over > costs.polling_multiplier(_estimate(60, 120), "mentions")  # type: ignore[operator]
    assert costs.polling_multiplier(_estimate(100, 120), "search") is None
    assert costs.polling_multiplier(_estimate(100, 120), "mentions") is None
    assert costs.polling_multiplier(_estimate(100, 120), "dms") == costs.MAX_SLOWDOWN
    assert costs.polling_multiplier(_estimate(100, 120, budget=0), "search") == 1.0  # no budget set


def test_query_cost_estimate_scales_with_volume() -> None:
    assert costs.estimate_query_monthly_cost(0, platform="x") == 0.0
    assert costs.estimate_query_monthly_cost(200, platform="x") == pytest.approx(200 * 30 * 0.005)
    with pytest.raises(ValueError):
        costs.estimate_query_monthly_cost(-1, platform="x")


def test_search_leaves_the_accounts_mentions_to_the_owned_read_path_while_that_source_is_healthy(
    engine: Engine, account_id: int
) -> None:
    query = "(#acmehelp OR acme) -is:retweet"
    assert costs.cheapest_search_query(engine, account_id, query, now=AT) == query  # no mentions source
    mentions = add_source_row(engine, account_id, "mentions")
    assert costs.cheapest_search_query(engine, account_id, query, now=AT) == query  # never polled yet
    with engine.begin() as conn:
        conn.execute(
            sources.update()
            .where(sources.c.id == mentions)
            .values(last_polled_at=AT - timedelta(seconds=30), last_error=None, poll_interval_s=60)
        )
    with engine.connect() as conn:
        username = conn.execute(sa.select(accounts.c.username).where(accounts.c.id == account_id)).scalar()
    assert costs.cheapest_search_query(engine, account_id, query, now=AT) == f"{query} -@{username}"
    # behind (after downtime its timeline may not reach back far enough), failing, or off: search reads all
    assert costs.cheapest_search_query(engine, account_id, query, now=AT + timedelta(hours=1)) == query
    with engine.begin() as conn:
        conn.execute(sources.update().where(sources.c.id == mentions).values(last_error="500 boom"))
    assert costs.cheapest_search_query(engine, account_id, query, now=AT) == query


def test_the_first_charge_of_the_day_stands_even_when_recorded_second(
    engine: Engine, account_id: int
) -> None:
    """An event delivered before a poll read the same post, but processed after it: X billed the
    event (a post read), not the owned read, and the meter moves the charge accordingly."""
    polled, delivered = AT + timedelta(seconds=2), AT + timedelta(seconds=1)
    assert costs.record_call(engine, account_id, "mentions", 1, resources=["post:1"], at=polled) == (
        pytest.approx(0.001)
    )
    added = costs.record_call(
        engine, account_id, "event_post", 1, resources=["post:1"], served_at=[delivered], at=polled
    )
    assert added == pytest.approx(0.005 - 0.001)
    by = {row["endpoint"]: row for row in costs.usage_by_endpoint(engine, today=AT.date())}
    assert (by["mentions"]["billed"], by["mentions"]["cost_usd"]) == (0, 0.0)
    assert (by["event_post"]["billed"], by["event_post"]["cost_usd"]) == (1, 0.005)
    # a later delivery of it is free
    later = AT + timedelta(seconds=3)
    assert costs.record_call(engine, account_id, "event_post", 1, resources=["post:1"], at=later) == 0.0


def test_workers_recording_the_same_resources_at_once_bill_each_once(
    engine: Engine, settings: Settings, account_id: int
) -> None:
    resources = [f"post:{i}" for i in range(200)]
    engines = [make_engine(settings) for _ in range(4)]
    errors: list[BaseException] = []

    def poll(eng: Engine, offset: int) -> None:
        try:
            for n in range(5):  # overlapping pages, in different orders
                page = resources[(offset * 37 + n * 50) % 200 :] + resources[: (offset * 37 + n * 50) % 200]
                costs.record_call(eng, account_id, "search", len(page), resources=page, at=AT)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=poll, args=(eng, i)) for i, eng in enumerate(engines)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for eng in engines:
        eng.dispose()
    assert errors == []
    by = {row["endpoint"]: row for row in costs.usage_by_endpoint(engine, today=AT.date())}
    assert by["search"]["calls"] == 20 and by["search"]["billed"] == 200
    assert by["search"]["cost_usd"] == pytest.approx(200 * 0.005)
