"""Listening queries and what they cost: the admin's expected volume, the observed volume once known.

The X search endpoint is billed per post read, and `api_usage` counts the posts read per account and
day. A query that has run at least one full UTC day gets an observed volume: the average posts a day
its account's search calls returned over the last (up to 7) full days. When one account runs several
queries that figure is their total, so it is shown as shared and the estimate keeps the expected volume.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.domain.errors import InvalidInput
from flockdesk.domain.utc import as_utc, utcnow
from flockdesk.services.accounts import costs
from flockdesk.services.accounts.sources import SourceInfo, list_sources
from flockdesk.services.team import audit
from flockdesk.store.schema import api_usage, sources

DEFAULT_POSTS_PER_DAY = 100.0
OBSERVE_DAYS = 7
MAX_POSTS_PER_DAY = 10_000_000


@dataclass(frozen=True, slots=True)
class QueryCost:
    source: SourceInfo
    expected_per_day: float  # the admin's figure, or DEFAULT_POSTS_PER_DAY when none was given
    expected_given: bool
    observed_per_day: float | None  # None until a full day has run
    observed_days: int
    shared_with: int  # other search queries on the same account (observed is their total when > 0)
    basis: str  # "observed" | "expected" | "assumed": which volume the estimate uses
    monthly_cost: float


def parse_volume(text: str) -> int | None:
    """The expected posts a day typed in a form ('' = not given); a clear error otherwise."""
    t = text.strip().replace(",", "").replace("_", "")
    if not t:
        return None
    try:
        value = float(t)
    except ValueError:
        raise InvalidInput("expected posts per day must be a number, e.g. 100") from None
    if not 0 <= value <= MAX_POSTS_PER_DAY or value != value:
        raise InvalidInput(f"expected posts per day must be between 0 and {MAX_POSTS_PER_DAY:,}")
    return round(value)


def set_expected_volume(
    engine: Engine, source_id: int, posts_per_day: int | None, *, actor_id: int | None = None
) -> None:
    """Change (None: clear) a query's expected posts a day; audited (actor_id None: the command line)."""
    with engine.begin() as conn:
        actor = audit.admin_actor(conn, actor_id)
        before = conn.execute(
            sa.select(sources.c.expected_posts_per_day).where(sources.c.id == source_id)
        ).first()
        if before is None:
            raise InvalidInput(f"no listening query with id {source_id}; reload the page")
        conn.execute(
            sources.update().where(sources.c.id == source_id).values(expected_posts_per_day=posts_per_day)
        )
        audit.record(
            conn,
            actor_id,
            actor,
            "source.change",
            "source",
            source_id,
            {"expected_posts_per_day": {"from": before.expected_posts_per_day, "to": posts_per_day}},
        )


def query_costs(engine: Engine, *, now: datetime | None = None) -> list[QueryCost]:
    """Every search source with its expected and observed volume and estimated monthly cost."""
    today = as_utc(now or utcnow()).date()
    items = [s for s in list_sources(engine) if s.kind == "search"]
    if not items:
        return []
    ids = [s.id for s in items]
    with engine.connect() as conn:
        meta = {
            r.id: (r.expected_posts_per_day, r.created_at.date())
            for r in conn.execute(
                sa.select(sources.c.id, sources.c.expected_posts_per_day, sources.c.created_at).where(
                    sources.c.id.in_(ids)
                )
            )
        }
        first = (today - timedelta(days=OBSERVE_DAYS)).isoformat()
        usage: dict[tuple[int, str], int] = {
            (int(r.account_id), r.day): int(r.items)
            for r in conn.execute(
                sa.select(api_usage.c.account_id, api_usage.c.day, api_usage.c["items"]).where(
                    api_usage.c.endpoint == "search",
                    api_usage.c.day >= first,
                    api_usage.c.day < today.isoformat(),
                )
            )
        }
    per_account: dict[int, int] = {}
    for s in items:
        per_account[s.account_id] = per_account.get(s.account_id, 0) + 1
    out: list[QueryCost] = []
    for s in items:
        expected, created = meta.get(s.id, (None, today))
        days = _full_days(created, today)
        observed = None
        if days and s.last_polled_at is not None:
            total = sum(
                usage.get((s.account_id, (today - timedelta(days=d)).isoformat()), 0)
                for d in range(1, days + 1)
            )
            observed = total / days
        shared = per_account[s.account_id] - 1
        if observed is not None and not shared:
            basis, volume = "observed", observed
        elif expected is not None:
            basis, volume = "expected", float(expected)
        else:
            basis, volume = "assumed", DEFAULT_POSTS_PER_DAY
        out.append(
            QueryCost(
                source=s,
                expected_per_day=float(expected) if expected is not None else DEFAULT_POSTS_PER_DAY,
                expected_given=expected is not None,
                observed_per_day=observed,
                observed_days=days if observed is not None else 0,
                shared_with=shared,
                basis=basis,
                monthly_cost=costs.estimate_query_monthly_cost(volume, platform=s.platform),
            )
        )
    return out


def _full_days(created: date, today: date) -> int:
    """Full UTC days the query has run (the day it was added counts only from the next day on)."""
    return max(0, min(OBSERVE_DAYS, (today - created).days - 1))
