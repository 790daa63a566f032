"""What `flockdesk status` shows: accounts, sources and their cursors and schedule, the platform's
rate-limit state, and this month's API calls and estimated spend against the budget."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.services import schedule
from flockdesk.services.accounts import costs
from flockdesk.services.accounts.connected import list_accounts
from flockdesk.services.accounts.sources import list_sources
from flockdesk.services.realtime.state import realtime_status
from flockdesk.store.schema import dead_letters, outbox, rate_limits


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def snapshot(engine: Engine, budget_usd: float, *, live_window_s: float = 90.0) -> dict[str, Any]:
    est = costs.estimate_month(engine, budget_usd)
    with engine.connect() as conn:
        limits = [
            dict(r)
            for r in conn.execute(
                sa.select(rate_limits).order_by(rate_limits.c.account_id, rate_limits.c.endpoint)
            ).mappings()
        ]
        box: dict[str, int] = dict(
            conn.execute(sa.select(outbox.c.status, sa.func.count()).group_by(outbox.c.status)).all()
        )
        dead = conn.execute(sa.select(sa.func.count()).select_from(dead_letters)).scalar_one()
    data: dict[str, Any] = {
        "accounts": [asdict(a) for a in list_accounts(engine)],
        "sources": [asdict(s) for s in list_sources(engine)],
        "rate_limits": limits,
        "usage": {
            "month": est.month,
            "calls": est.calls,
            "items": est.items,
            "spent_usd": est.spent_usd,
            "projected_usd": est.projected_usd,
            "budget_usd": est.budget_usd,
            "by_endpoint": costs.usage_by_endpoint(engine),
        },
        "outbox": {k: int(v) for k, v in box.items()},
        "dead_letters": int(dead),
        "jobs": schedule.job_states(engine),
        # per account: live (events arriving by stream or webhook) or polling, and the event lag
        "realtime": [
            realtime_status(engine, a.id, live_window_s=live_window_s).as_json()
            for a in list_accounts(engine)
        ],
    }
    for section in ("accounts", "sources", "rate_limits", "jobs"):
        data[section] = [{str(k): _jsonable(v) for k, v in row.items()} for row in data[section]]
    return data
