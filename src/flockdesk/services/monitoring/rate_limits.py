"""The platform's last `x-rate-limit-*` headers per account and endpoint, kept for `flockdesk status`
(the worker's pacing decisions use its own copy in memory, jobs/pacing.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine

from flockdesk.connectors.base import RateLimitState
from flockdesk.store.dialect import upsert
from flockdesk.store.schema import rate_limits


def save_rate_state(engine: Engine, account_id: int, endpoint: str, rate: RateLimitState) -> None:
    """Upsert the latest headers."""
    now = datetime.now(UTC)
    reset = datetime.fromtimestamp(rate.reset_at, UTC) if rate.reset_at is not None else None
    values = {
        "account_id": account_id,
        "endpoint": endpoint,
        "limit": rate.limit,
        "remaining": rate.remaining,
        "reset_at": reset,
        "updated_at": now,
    }
    with engine.begin() as conn:
        stmt = (
            upsert(conn, rate_limits)
            .values(**values)
            .on_conflict_do_update(
                index_elements=["account_id", "endpoint"],
                set_={"limit": rate.limit, "remaining": rate.remaining, "reset_at": reset, "updated_at": now},
            )
        )
        conn.execute(stmt)
