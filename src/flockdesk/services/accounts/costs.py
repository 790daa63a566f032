"""API cost: every call and the items it returned are counted in `api_usage`, priced with the
account's platform's unit prices (its profile's `Pricing`, from the connector registry; X's are in
connectors/x/pricing.py).

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

from flockdesk.connectors import registry
from flockdesk.domain.errors import InvalidInput
from flockdesk.store.dialect import upsert
from flockdesk.store.schema import accounts, api_usage

SLOW_FROM = 0.8
MAX_SLOWDOWN = 4.0


def record_call(
    engine: Engine,
    account_id: int,
    endpoint: str,
    items: int,
    *,
    has_url: bool = False,
    at: datetime | None = None,
) -> float:
    """Add one call (and its items and cost, at the account's platform's prices) to today's row for
    the account and endpoint."""
    day = (at or datetime.now(UTC)).astimezone(UTC).date().isoformat()
    with engine.connect() as conn:
        platform = conn.execute(
            sa.select(accounts.c.platform).where(accounts.c.id == account_id)
        ).scalar_one()
    cost = registry.profile(platform).call_cost(endpoint, items, has_url=has_url)
    values = {
        "account_id": account_id,
        "day": day,
        "endpoint": endpoint,
        "calls": 1,
        "items": items,
        "cost_usd": cost,
    }
    with engine.begin() as conn:
        stmt = (
            upsert(conn, api_usage)
            .values(**values)
            .on_conflict_do_update(
                index_elements=["account_id", "day", "endpoint"],
                set_={
                    "calls": api_usage.c.calls + 1,
                    "items": api_usage.c["items"] + items,
                    "cost_usd": api_usage.c.cost_usd + cost,
                },
            )
        )
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
        return MAX_SLOWDOWN if source_kind in ("dms", "xchat") else None
    ratio = estimate.projected_ratio
    if ratio < SLOW_FROM:
        return 1.0
    if ratio < 1.0:
        return 1.0 + (MAX_SLOWDOWN - 1.0) * (ratio - SLOW_FROM) / (1.0 - SLOW_FROM)
    return MAX_SLOWDOWN * 2 if source_kind == "search" else MAX_SLOWDOWN


def estimate_query_monthly_cost(query_volume_per_day: float, *, platform: str, days: int = 30) -> float:
    """What a listening query on `platform` that matches `query_volume_per_day` posts a day costs a
    month (each matching post is read once, at the platform's price for a search hit)."""
    if query_volume_per_day < 0:
        raise InvalidInput("query_volume_per_day must be zero or more")
    return round(query_volume_per_day * days * registry.profile(platform).search_item_cost(), 2)


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
