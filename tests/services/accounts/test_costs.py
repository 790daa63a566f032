from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine

from flockdesk.connectors import registry
from flockdesk.connectors.x.pricing import UNIT_PRICES
from flockdesk.services.accounts import costs


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
    assert x.call_cost("token", 1) == 0.0


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
