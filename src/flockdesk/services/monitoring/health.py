"""Account health for admins: per account and per source, whether events arrive live or the source is
polled, the last good poll, the last error in the platform's own words, the request parameters the
platform refused (services/monitoring/drift.py), the event lag, spend today and this month, and
what to do about each state.

Platform-neutral: errors are the connector's details as stored on the source, and the parameters are
shown as the platform spells them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.connectors import registry
from flockdesk.domain.errors import NotFound
from flockdesk.domain.utc import as_utc, utcnow
from flockdesk.services.accounts import connected as accounts_svc
from flockdesk.services.monitoring import drift
from flockdesk.services.realtime import state as realtime_state
from flockdesk.store.schema import api_usage, sources

SourceState = Literal[
    "ok", "degraded", "rate_limited", "auth_failed", "budget_paused", "failing", "not_polled", "disabled"
]
# source kinds whose items real-time events deliver (the worker polls them slower while live)
EVENT_KINDS = frozenset({"mentions", "dms"})
_AUTH = re.compile(r"\b(401|403)\b")

ADVICE: dict[SourceState, str] = {
    "ok": "Nothing to do: the last poll worked.",
    "degraded": (
        "The platform refused some request parameters, so Flockdesk polls without them (listed here) "
        "and some details may be missing. Upgrade Flockdesk, or set the account's API version to the "
        "one its API host speaks; if it persists, report it with the parameters and the error text."
    ),
    "rate_limited": (
        "The platform's rate limit was reached: nothing to do, polling resumes by itself when the "
        "platform lifts it (the next poll time below)."
    ),
    "auth_failed": (
        "The platform refused the account's token (revoked, expired or without the needed access): "
        "connect the account again under Settings → Accounts."
    ),
    "budget_paused": (
        "The month's API budget is spent, so this source is paused: raise the monthly budget "
        "(monthly_budget_usd) or wait for the next month."
    ),
    "failing": (
        "The last poll failed (the platform's words below). The worker retries with a growing pause; "
        "if it lasts, check the server's network and the platform's status page."
    ),
    "not_polled": "Not polled yet: the worker polls it when it is due (is a worker running?).",
    "disabled": "Disabled: this source is not polled.",
}


@dataclass(frozen=True)
class Spend:
    today_usd: float
    month_usd: float


@dataclass(frozen=True)
class DegradedParameter:
    parameter: str
    value: str | None
    replacement: str | None
    detail: str  # the platform's words
    since: str | None  # ISO 8601, when first refused

    @property
    def refused(self) -> str:
        return self.parameter if self.value is None else f"{self.parameter}={self.value}"


@dataclass(frozen=True)
class SourceHealth:
    id: int
    kind: str
    query: str | None
    enabled: bool
    delivery: Literal["live", "polling"]
    state: SourceState
    advice: str
    last_polled_at: datetime | None
    last_success_at: datetime | None
    next_poll_at: datetime | None
    last_error: str | None
    degraded: list[DegradedParameter] = field(default_factory=list)


@dataclass(frozen=True)
class AccountHealth:
    account_id: int
    platform: str
    username: str
    display_name: str
    active: bool
    api_version: str | None  # what the connector speaks (the platform's default when unset)
    api_version_set: str | None  # the account's own setting
    api_versions: tuple[str, ...]
    realtime: realtime_state.RealtimeStatus
    spend: Spend
    sources: list[SourceHealth]
    advice: list[str]

    @property
    def degraded(self) -> bool:
        return any(s.degraded for s in self.sources)


def spend(engine: Engine, account_id: int, *, today: date | None = None) -> Spend:
    """The account's API spend today and this month (UTC), from the cost meter's `api_usage`.

    The one place the health page reads costs: an adapter to swap for the cost service's own
    per-account summary once it has one."""
    day = (today or datetime.now(UTC).date()).isoformat()
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(
                sa.func.coalesce(
                    sa.func.sum(sa.case((api_usage.c.day == day, api_usage.c.cost_usd), else_=0.0)), 0.0
                ),
                sa.func.coalesce(sa.func.sum(api_usage.c.cost_usd), 0.0),
            ).where(api_usage.c.account_id == account_id, api_usage.c.day.like(day[:7] + "-%"))
        ).one()
    return Spend(round(float(row[0]), 4), round(float(row[1]), 4))


def _state(row: Any, degraded: list[DegradedParameter]) -> SourceState:
    error = row["last_error"] or ""
    if not row["enabled"]:
        return "disabled"
    if error.startswith("rate limited"):
        return "rate_limited"
    if error.startswith("paused:"):
        return "budget_paused"
    if error and _AUTH.search(error):
        return "auth_failed"
    if error:
        return "failing"
    if row["last_polled_at"] is None:
        return "not_polled"
    return "degraded" if degraded else "ok"


def _ts(value: Any) -> datetime | None:
    return as_utc(value) if isinstance(value, datetime) else None


def account_health(
    engine: Engine, account_id: int, *, live_window_s: float = 90.0, now: datetime | None = None
) -> AccountHealth:
    """Everything the health page shows for one account (AccountError when there is none)."""
    now = now or utcnow()
    try:
        info = accounts_svc.get_account(engine, account_id)
    except accounts_svc.AccountError as exc:
        raise NotFound(str(exc)) from exc
    rt = realtime_state.realtime_status(engine, account_id, live_window_s=live_window_s, now=now)
    with engine.connect() as conn:
        rows = (
            conn.execute(sa.select(sources).where(sources.c.account_id == account_id).order_by(sources.c.id))
            .mappings()
            .all()
        )
    found: list[SourceHealth] = []
    for row in rows:
        degraded = [
            DegradedParameter(d.parameter, d.value, d.replacement, d.detail, since)
            for d, since in drift.stored_at(row["degraded"])
        ]
        state = _state(row, degraded)
        live = rt.state == "live" and row["kind"] in EVENT_KINDS
        what_to_do = ADVICE[state]
        due = _ts(row["next_poll_at"])
        if state == "rate_limited" and due is not None and due > now:
            what_to_do += f" Wait until {due:%Y-%m-%d %H:%M} UTC."
        found.append(
            SourceHealth(
                id=int(row["id"]),
                kind=str(row["kind"]),
                query=row["query"],
                enabled=bool(row["enabled"]),
                delivery="live" if live else "polling",
                state=state,
                advice=what_to_do,
                last_polled_at=_ts(row["last_polled_at"]),
                last_success_at=_ts(row["last_success_at"]),
                next_poll_at=_ts(row["next_poll_at"]),
                last_error=row["last_error"],
                degraded=degraded,
            )
        )
    known, default = registry.api_versions(info.platform)
    advice: list[str] = []
    if rt.needs_reconnect or not info.active:
        advice.append(ADVICE["auth_failed"] if rt.needs_reconnect else "The account is disconnected.")
    advice.append(rt.advice)
    for state in ("auth_failed", "rate_limited", "degraded", "budget_paused", "failing"):
        if any(s.state == state for s in found) and ADVICE[state] not in advice:
            advice.append(ADVICE[state])
    return AccountHealth(
        account_id=info.id,
        platform=info.platform,
        username=info.username,
        display_name=info.display_name,
        active=info.active,
        api_version=info.api_version or default,
        api_version_set=info.api_version,
        api_versions=known,
        realtime=rt,
        spend=spend(engine, account_id, today=now.date()),
        sources=found,
        advice=advice,
    )
