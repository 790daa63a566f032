"""API cost: every call and the items it returned are counted in `api_usage`, priced with X's
pay-per-use unit prices (../shared/reference/x-api.md section 2, "Access and pricing", 2026-02-06):

  Post read $0.005 - User read $0.010 - DM Event read $0.010 - Followers read $0.010 -
  Post create $0.015 ($0.20 with a URL) - DM create $0.015 - Owned Reads $0.001 (your own
  /2/users/{id}/mentions, /tweets and /followers, since 2026-04-20).

Only the items in a response's `data` are priced (expanded users in `includes` are not); X
deduplicates per 24 h UTC, so these figures are an upper bound.

Budget policy (`polling_multiplier`), against settings.monthly_budget_usd:
  * projected month spend (month-to-date / days elapsed x days in month) below 80% of the budget:
    poll at the configured intervals;
  * from 80% to 100% projected: intervals grow linearly up to 4x;
  * projected over the budget (but spent below it): 4x, and search (the costliest, least owned
    reads) 8x;
  * month-to-date spend at or over the budget: mention and search reads stop until the month ends;
    DM reads go on at 4x (a customer waiting in private must still be heard) and the outbox still
    sends (each send is an agent's decision).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from flockdesk.domain.errors import InvalidInput
from flockdesk.store.schema import api_usage

# USD per unit; a settings-like table that a deployment may override via `set_unit_prices`.
UNIT_PRICES: dict[str, float] = {
    "post_read": 0.005,
    "user_read": 0.010,
    "dm_event_read": 0.010,
    "followers_read": 0.010,
    "owned_read": 0.001,
    "post_create": 0.015,
    "post_create_with_url": 0.20,
    "dm_create": 0.015,
}

# endpoint (as connectors report it) -> the unit its items are priced at
ENDPOINT_UNIT: dict[str, str] = {
    "mentions": "owned_read",
    "own_posts": "owned_read",  # GET /2/users/{id}/tweets: the outbox's check for a lost answer
    "followers": "owned_read",
    "search": "post_read",
    "dm_events": "dm_event_read",
    "users_me": "user_read",
    "post_create": "post_create",
    "dm_create": "dm_create",
}

SLOW_FROM = 0.8
MAX_SLOWDOWN = 4.0


def unit_cost(endpoint: str, items: int, *, has_url: bool = False) -> float:
    """Cost of one call to `endpoint` that returned (or created) `items` items."""
    unit = ENDPOINT_UNIT.get(endpoint)
    if unit is None:
        return 0.0
    if unit == "post_create" and has_url:
        unit = "post_create_with_url"
    if endpoint in ("post_create", "dm_create"):
        return UNIT_PRICES[unit] if items else 0.0
    return UNIT_PRICES[unit] * items


def record_call(
    engine: Engine,
    account_id: int,
    endpoint: str,
    items: int,
    *,
    has_url: bool = False,
    at: datetime | None = None,
) -> float:
    """Add one call (and its items and cost) to today's row for the account and endpoint."""
    day = (at or datetime.now(UTC)).astimezone(UTC).date().isoformat()
    cost = unit_cost(endpoint, items, has_url=has_url)
    values = {
        "account_id": account_id,
        "day": day,
        "endpoint": endpoint,
        "calls": 1,
        "items": items,
        "cost_usd": cost,
    }
    ins = pg_insert(api_usage) if engine.dialect.name == "postgresql" else sqlite_insert(api_usage)
    stmt = ins.values(**values).on_conflict_do_update(
        index_elements=["account_id", "day", "endpoint"],
        set_={
            "calls": api_usage.c.calls + 1,
            "items": api_usage.c["items"] + items,
            "cost_usd": api_usage.c.cost_usd + cost,
        },
    )
    with engine.begin() as conn:
        conn.execute(stmt)
    return cost


@dataclass(frozen=True)
class MonthEstimate:
    month: str  # YYYY-MM
    calls: int
    items: int
    spent_usd: float  # month to date
    projected_usd: float  # linear projection to the month's end
    budget_usd: float

    @property
    def projected_ratio(self) -> float:
        return self.projected_usd / self.budget_usd if self.budget_usd > 0 else 0.0

    @property
    def spent_ratio(self) -> float:
        return self.spent_usd / self.budget_usd if self.budget_usd > 0 else 0.0


def estimate_month(engine: Engine, budget_usd: float = 0.0, *, today: date | None = None) -> MonthEstimate:
    """Spend this UTC month so far, and its projection to the month's end."""
    today = today or datetime.now(UTC).date()
    prefix = today.strftime("%Y-%m")
    days_in_month = calendar.monthrange(today.year, today.month)[1]
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(
                sa.func.coalesce(sa.func.sum(api_usage.c.calls), 0),
                sa.func.coalesce(sa.func.sum(api_usage.c["items"]), 0),
                sa.func.coalesce(sa.func.sum(api_usage.c.cost_usd), 0.0),
            ).where(api_usage.c.day.like(f"{prefix}-%"))
        ).one()
    calls, items, spent = int(row[0]), int(row[1]), float(row[2])
    projected = spent / today.day * days_in_month
    return MonthEstimate(prefix, calls, items, round(spent, 6), round(projected, 6), budget_usd)


def polling_multiplier(estimate: MonthEstimate, source_kind: str) -> float | None:
    """How much to stretch a source's poll interval under the budget policy (module docstring).

    None means: do not poll this source now (the month's budget is spent)."""
    if estimate.budget_usd <= 0:
        return 1.0
    if estimate.spent_ratio >= 1.0:
        return MAX_SLOWDOWN if source_kind == "dms" else None
    ratio = estimate.projected_ratio
    if ratio < SLOW_FROM:
        return 1.0
    if ratio < 1.0:
        return 1.0 + (MAX_SLOWDOWN - 1.0) * (ratio - SLOW_FROM) / (1.0 - SLOW_FROM)
    return MAX_SLOWDOWN * 2 if source_kind == "search" else MAX_SLOWDOWN


def estimate_query_monthly_cost(query_volume_per_day: float, *, days: int = 30) -> float:
    """What a listening query that matches `query_volume_per_day` posts a day costs a month
    (each matching post is read once, at the Post read price)."""
    if query_volume_per_day < 0:
        raise InvalidInput("query_volume_per_day must be zero or more")
    return round(query_volume_per_day * days * UNIT_PRICES["post_read"], 2)


def usage_by_endpoint(engine: Engine, *, today: date | None = None) -> list[dict[str, object]]:
    """This month's calls, items and cost per endpoint (for `flockdesk status`)."""
    prefix = (today or datetime.now(UTC).date()).strftime("%Y-%m")
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                api_usage.c.endpoint,
                sa.func.sum(api_usage.c.calls),
                sa.func.sum(api_usage.c["items"]),
                sa.func.sum(api_usage.c.cost_usd),
            )
            .where(api_usage.c.day.like(f"{prefix}-%"))
            .group_by(api_usage.c.endpoint)
            .order_by(api_usage.c.endpoint)
        ).all()
    return [
        {"endpoint": r[0], "calls": int(r[1]), "items": int(r[2]), "cost_usd": round(float(r[3]), 4)}
        for r in rows
    ]
