"""API cost: every call, the items it returned and what the platform bills for them, counted in
`api_usage` per account, UTC day and logical endpoint, at the account's platform's prices (its
profile's `Pricing`, from the connector registry; X's prices and rules are in connectors/x/pricing.py).

Billing rules (X's since 2026, docs/worker.md "Costs"): the connector names each resource a read
returned ("post:123", "user:9", "dm:77", in `data` and `includes`) and each billed event delivered;
a resource is billed the first time that UTC day only, whichever read or event brought it. The
resources billed today are kept in `billed_resources` (one row per platform, day and resource, so
the rule holds across worker restarts and several workers; days before yesterday are pruned). Writes
are priced per call and never deduplicated. A read whose resources the connector does not name is
priced per item.

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
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from flockdesk.connectors import registry
from flockdesk.domain.errors import InvalidInput
from flockdesk.domain.utc import as_utc
from flockdesk.store.dialect import upsert
from flockdesk.store.schema import accounts, api_usage, billed_resources, sources

SLOW_FROM = 0.8
MAX_SLOWDOWN = 4.0
MENTIONS_FRESH_MIN_S = 300.0  # a mentions source polled this recently (or within 3 intervals) is healthy
CLAIM_CHUNK = 500  # resources per INSERT (3 bound values each: far below SQLite's limit)

# logical endpoint -> the source it is shown under in a spend summary
SOURCE_OF: dict[str, str] = {
    "mentions": "mentions",
    "search": "search",
    "dm_events": "dms",
    "own_posts": "own posts",
    "followers": "followers",
    "users_me": "account",
    "post_create": "sends",
    "dm_create": "sends",
}

_pruned: dict[tuple[str, str], str] = {}  # (database URL, platform) -> the day last pruned for


@dataclass(frozen=True, slots=True)
class _Charge:
    day: str
    resource: str
    at: datetime
    usd: float


# (account id, day, endpoint) -> [USD, resources] an earlier charge of the same resource took back
_Moved = dict[tuple[int, str, str], list[float]]


def _claim(
    conn: Connection, platform: str, account_id: int, endpoint: str, charges: Sequence[_Charge]
) -> tuple[list[_Charge], _Moved]:
    """Bill each resource once per UTC day: the charges that stand, and what they took from others.

    The platform bills the first read or delivery of the day. A charge recorded after another of
    the same resource but served earlier (an event processed after a poll that read the same post
    on a cheaper path) takes its place: the other charge is taken back from its account and endpoint.
    Rows are claimed in one sorted order, so that two workers never wait on each other in a cycle."""
    ordered = sorted(charges, key=lambda c: (c.day, c.resource))
    inserted: set[tuple[str, str]] = set()
    for i in range(0, len(ordered), CLAIM_CHUNK):
        rows = [
            {
                "platform": platform,
                "day": c.day,
                "resource": c.resource,
                "billed_at": c.at,
                "account_id": account_id,
                "endpoint": endpoint,
                "cost_usd": c.usd,
            }
            for c in ordered[i : i + CLAIM_CHUNK]
        ]
        stmt = (
            upsert(conn, billed_resources)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["platform", "day", "resource"])
            .returning(billed_resources.c.day, billed_resources.c.resource)
        )
        inserted.update((str(d), str(r)) for d, r in conn.execute(stmt))
    stand = [c for c in ordered if (c.day, c.resource) in inserted]
    billed_before = [c for c in ordered if (c.day, c.resource) not in inserted]
    moved: _Moved = {}
    for c in _served_earlier(conn, platform, billed_before):  # rare: most were billed earlier, free
        key = (
            billed_resources.c.platform == platform,
            billed_resources.c.day == c.day,
            billed_resources.c.resource == c.resource,
        )
        old = conn.execute(sa.select(billed_resources).where(*key).with_for_update()).mappings().first()
        if old is None or as_utc(old["billed_at"]) <= c.at:
            continue
        conn.execute(
            billed_resources.update()
            .where(*key)
            .values(billed_at=c.at, account_id=account_id, endpoint=endpoint, cost_usd=c.usd)
        )
        taken = moved.setdefault((int(old["account_id"]), c.day, str(old["endpoint"])), [0.0, 0])
        taken[0] += float(old["cost_usd"])
        taken[1] += 1
        stand.append(c)
    return stand, moved


def _served_earlier(conn: Connection, platform: str, charges: Sequence[_Charge]) -> list[_Charge]:
    """The charges served before the charge already recorded for the same resource and day."""
    out: list[_Charge] = []
    by_day: dict[str, dict[str, _Charge]] = {}
    for c in charges:
        by_day.setdefault(c.day, {})[c.resource] = c
    for day, wanted in by_day.items():
        names = sorted(wanted)
        for i in range(0, len(names), CLAIM_CHUNK):
            rows = conn.execute(
                sa.select(billed_resources.c.resource, billed_resources.c.billed_at).where(
                    billed_resources.c.platform == platform,
                    billed_resources.c.day == day,
                    billed_resources.c.resource.in_(names[i : i + CLAIM_CHUNK]),
                )
            )
            out.extend(wanted[str(r)] for r, at in rows if as_utc(at) > wanted[str(r)].at)
    return sorted(out, key=lambda c: (c.day, c.resource))


def _add_usage(
    conn: Connection,
    account_id: int,
    day: str,
    endpoint: str,
    *,
    calls: int,
    items: int,
    usd: float,
    billed: int,
) -> None:
    values = {
        "account_id": account_id,
        "day": day,
        "endpoint": endpoint,
        "calls": calls,
        "items": items,
        "cost_usd": usd,
        "billed_items": billed,
    }
    stmt = (
        upsert(conn, api_usage)
        .values(**values)
        .on_conflict_do_update(
            index_elements=["account_id", "day", "endpoint"],
            set_={
                "calls": api_usage.c.calls + calls,
                "items": api_usage.c["items"] + items,
                "cost_usd": api_usage.c.cost_usd + usd,
                "billed_items": api_usage.c.billed_items + billed,
            },
        )
    )
    conn.execute(stmt)


def _prune(engine: Engine, platform: str, day: str) -> None:
    """Forget resources billed before yesterday (only today's matter; yesterday's stay for a call
    recorded just after midnight). Once per process, platform and day."""
    key = (engine.url.render_as_string(hide_password=True), platform)
    if _pruned.get(key, "") >= day:
        return
    cutoff = (date.fromisoformat(day) - timedelta(days=1)).isoformat()
    with engine.begin() as conn:
        conn.execute(
            sa.delete(billed_resources).where(
                billed_resources.c.platform == platform, billed_resources.c.day < cutoff
            )
        )
    _pruned[key] = day


def record_call(
    engine: Engine,
    account_id: int,
    endpoint: str,
    items: int,
    *,
    has_url: bool = False,
    reply: bool = False,
    resources: Sequence[str] = (),
    at: datetime | None = None,
    served_at: Sequence[datetime] | None = None,
) -> float:
    """Add one call (or a batch of delivered events) to the account's row for its UTC day and
    endpoint: its items, the resources billed for the first time that day and their cost. `served_at`
    gives each resource's own time (each event's delivery), else all were served `at` (now).
    Returns the cost added."""
    at = (at or datetime.now(UTC)).astimezone(UTC)
    day = at.date().isoformat()
    with engine.connect() as conn:
        platform = str(
            conn.execute(sa.select(accounts.c.platform).where(accounts.c.id == account_id)).scalar_one()
        )
    profile = registry.profile(platform)
    with engine.begin() as conn:
        if not resources:
            cost = profile.call_cost(endpoint, items, has_url=has_url, reply=reply)
            _add_usage(
                conn,
                account_id,
                day,
                endpoint,
                calls=1,
                items=items,
                usd=cost,
                billed=items if cost > 0 else 0,
            )
            return cost
        times = [t.astimezone(UTC) for t in served_at] if served_at is not None else [at] * len(resources)
        first: dict[str, datetime] = {}
        for resource, t in zip(resources, times, strict=True):
            first[resource] = min(t, first.get(resource, t))
        charges = []
        for resource, t in first.items():
            price = profile.resource_cost(endpoint, resource)
            if price > 0:
                charges.append(_Charge(t.date().isoformat(), resource, t, price))
        stand, moved = _claim(conn, platform, account_id, endpoint, charges)
        per_day: dict[str, list[float]] = {day: [0.0, 0]}
        for c in stand:
            acc = per_day.setdefault(c.day, [0.0, 0])
            acc[0] += c.usd
            acc[1] += 1
        rows: dict[tuple[int, str, str], tuple[int, int, float, int]] = {
            key: (0, 0, -usd, -int(n)) for key, (usd, n) in moved.items()
        }
        for d, (usd, n) in per_day.items():
            key = (account_id, d, endpoint)
            taken = rows.get(key, (0, 0, 0.0, 0))
            calls, got = (1, items) if d == day else (0, 0)
            rows[key] = (calls, got, taken[2] + usd, taken[3] + int(n))
        for (acct, d, ep), (calls, got, usd, n) in sorted(rows.items()):  # one lock order
            _add_usage(conn, acct, d, ep, calls=calls, items=got, usd=usd, billed=n)
        cost = sum(c.usd for c in stand) - sum(v[0] for v in moved.values())
    _prune(engine, platform, day)
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


def cheapest_search_query(engine: Engine, account_id: int, query: str, *, now: datetime | None = None) -> str:
    """The listening query as sent: narrowed (by the platform's rules) to posts that do not tag the
    account while the account's own mentions source is polled and healthy, so that those posts are
    read the cheaper, owned way (X: $0.001 instead of $0.005). While the mentions source is off,
    failing or behind (after downtime its timeline may not reach back far enough), search reads
    everything, as completeness comes first."""
    now = now or datetime.now(UTC)
    with engine.connect() as conn:
        account = conn.execute(
            sa.select(accounts.c.platform, accounts.c.username).where(accounts.c.id == account_id)
        ).one()
        polls = conn.execute(
            sa.select(sources.c.last_polled_at, sources.c.poll_interval_s).where(
                sources.c.account_id == account_id,
                sources.c.kind == "mentions",
                sources.c.enabled.is_(True),
                sources.c.last_error.is_(None),
                sources.c.last_polled_at.is_not(None),
            )
        ).all()
    fresh = any(
        as_utc(polled) >= now - timedelta(seconds=max(MENTIONS_FRESH_MIN_S, 3 * float(interval)))
        for polled, interval in polls
    )
    if not fresh or not account.username:
        return query
    return registry.profile(str(account.platform)).without_mentions_of(query, str(account.username))


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
                sa.func.sum(api_usage.c.billed_items),
            )
            .where(api_usage.c.day.like(f"{prefix}-%"))
            .group_by(api_usage.c.endpoint)
            .order_by(api_usage.c.endpoint)
        ).all()
    return [
        {
            "endpoint": r[0],
            "calls": int(r[1]),
            "items": int(r[2]),
            "billed": int(r[4]),
            "cost_usd": round(float(r[3]), 4),
        }
        for r in rows
    ]


def source_of(endpoint: str) -> str:
    """The source a logical endpoint's spend is shown under (delivered events: "real time")."""
    if endpoint.startswith("event_"):
        return "real time"
    if endpoint.startswith("chat_"):
        return "xchat"
    return SOURCE_OF.get(endpoint, endpoint)


@dataclass(frozen=True)
class SourceSpend:
    today_usd: float
    month_usd: float
    billed_today: int  # resources (or writes) charged today
    billed_month: int


@dataclass(frozen=True)
class SpendSummary:
    """What an account has cost today and this UTC month (for its health page)."""

    account_id: int
    day: str  # YYYY-MM-DD (UTC)
    month: str  # YYYY-MM
    today_usd: float
    month_usd: float
    by_source: dict[str, SourceSpend] = field(default_factory=dict)


def spend_summary(engine: Engine, account_id: int, *, today: date | None = None) -> SpendSummary:
    """Spend today and this month for one account, in total and per source (mentions, search, dms,
    real time, sends, ...), from the meter."""
    today = today or datetime.now(UTC).date()
    day, prefix = today.isoformat(), today.strftime("%Y-%m")
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                api_usage.c.day, api_usage.c.endpoint, api_usage.c.cost_usd, api_usage.c.billed_items
            ).where(api_usage.c.account_id == account_id, api_usage.c.day.like(f"{prefix}-%"))
        ).all()
    sums: dict[str, list[float]] = {}
    for row_day, endpoint, cost, billed in rows:
        acc = sums.setdefault(source_of(str(endpoint)), [0.0, 0.0, 0, 0])
        acc[1] += float(cost)
        acc[3] += int(billed)
        if row_day == day:
            acc[0] += float(cost)
            acc[2] += int(billed)
    by_source = {
        name: SourceSpend(round(v[0], 6), round(v[1], 6), int(v[2]), int(v[3]))
        for name, v in sorted(sums.items())
    }
    return SpendSummary(
        account_id,
        day,
        prefix,
        round(sum(v.today_usd for v in by_source.values()), 6),
        round(sum(v.month_usd for v in by_source.values()), 6),
        by_source,
    )
