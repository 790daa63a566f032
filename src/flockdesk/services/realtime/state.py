"""Per account real-time state in the store (`realtime_accounts`): subscriptions made, whether events
are being delivered (stream open and alive, or webhook valid), the last event and the event lag. The
stream consumer may run in another worker process than the one asking, so everything is in the store.
"""

from __future__ import annotations

import statistics
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from flockdesk.connectors import registry
from flockdesk.domain.utc import as_utc, utcnow
from flockdesk.store.dialect import upsert
from flockdesk.store.schema import accounts, realtime_accounts

LAG_SAMPLES = 200  # recent event lags kept per account (p50 / p95 over these)
Delivery = Literal["stream", "webhook"]


@dataclass(frozen=True)
class RealtimeAccount:
    """An active account of a platform with real-time delivery."""

    id: int
    platform: str
    external_user_id: str
    base_url: str
    subscribed_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class RealtimeStatus:
    """What `flockdesk status` and the account health page show for one account."""

    account_id: int
    state: Literal["live", "polling"]
    delivery: Delivery | None  # how events come when live (None: never set up)
    subscribed: bool
    subscription_error: str | None
    connected: bool
    last_event_at: datetime | None
    last_heartbeat_at: datetime | None
    lag_last_ms: int | None
    lag_p50_ms: float | None
    lag_p95_ms: float | None
    lag_samples: int
    last_error: str | None
    needs_reconnect: bool  # the owner revoked the app's access (oauth.revoke)
    advice: str

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in self.__dict__.items():
            out[key] = value.isoformat() if isinstance(value, datetime) else value
        return out


def realtime_accounts_list(engine: Engine) -> list[RealtimeAccount]:
    """Active accounts whose platform has real-time delivery, with their subscription state."""
    q = (
        sa.select(
            accounts.c.id,
            accounts.c.platform,
            accounts.c.external_user_id,
            accounts.c.base_url,
            realtime_accounts.c.subscribed_at,
            realtime_accounts.c.revoked_at,
        )
        .outerjoin(realtime_accounts, realtime_accounts.c.account_id == accounts.c.id)
        .where(accounts.c.active.is_(True))
        .order_by(accounts.c.id)
    )
    with engine.connect() as conn:
        rows = conn.execute(q).all()
    return [
        RealtimeAccount(
            int(r.id),
            r.platform,
            r.external_user_id,
            r.base_url,
            as_utc(r.subscribed_at) if r.subscribed_at else None,
            as_utc(r.revoked_at) if r.revoked_at else None,
        )
        for r in rows
        if registry.realtime(r.platform) is not None
    ]


def _upsert(conn: Connection, account_id: int, mode: Delivery, now: datetime, **values: Any) -> None:
    row = {"account_id": account_id, "mode": mode, "connected": False, "updated_at": now, **values}
    stmt = upsert(conn, realtime_accounts).values(row)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["account_id"], set_={"mode": mode, "updated_at": now, **values}
        )
    )


def mark_subscribed(
    engine: Engine, account_id: int, mode: Delivery, *, error: str | None, now: datetime | None = None
) -> None:
    """Every subscription the account needs exists (or `error` says which could not be made)."""
    now = now or utcnow()
    with engine.begin() as conn:
        _upsert(
            conn,
            account_id,
            mode,
            now,
            subscribed_at=now if error is None else None,
            subscription_error=error,
            revoked_at=None,
        )


def mark_connected(
    engine: Engine,
    account_ids: Collection[int],
    mode: Delivery,
    *,
    connected: bool,
    error: str | None = None,
    now: datetime | None = None,
) -> None:
    """The stream (or webhook) for these accounts opened (`connected=True`) or closed (with `error`)."""
    if not account_ids:
        return
    now = now or utcnow()
    values: dict[str, Any] = {"connected": connected}
    if connected:
        values.update(connected_since=now, last_heartbeat_at=now, last_error=None)
    elif error is not None:
        values["last_error"] = error[:2000]
    with engine.begin() as conn:
        for account_id in sorted(account_ids):
            _upsert(conn, account_id, mode, now, **values)


def record_heartbeat(engine: Engine, account_ids: Collection[int], *, now: datetime | None = None) -> None:
    """The delivery was seen alive (a keep-alive or an event) for these accounts."""
    if not account_ids:
        return
    now = now or utcnow()
    with engine.begin() as conn:
        conn.execute(
            realtime_accounts.update()
            .where(realtime_accounts.c.account_id.in_(sorted(account_ids)))
            .values(last_heartbeat_at=now, updated_at=now)
        )


def record_events(
    engine: Engine, lags_ms: Mapping[int, Sequence[int]], *, now: datetime | None = None
) -> None:
    """Events arrived for these accounts, each with its lag (arrival minus the event's own time)."""
    if not lags_ms:
        return
    now = now or utcnow()
    with engine.begin() as conn:
        rows = conn.execute(
            sa.select(realtime_accounts.c.account_id, realtime_accounts.c.recent_lags_ms).where(
                realtime_accounts.c.account_id.in_(sorted(lags_ms))
            )
        ).all()
        for account_id, previous in rows:
            new = list(lags_ms[int(account_id)])
            kept = [int(x) for x in previous if isinstance(x, int)] if isinstance(previous, list) else []
            values: dict[str, Any] = {"last_event_at": now, "last_heartbeat_at": now, "updated_at": now}
            if new:
                values["last_lag_ms"] = new[-1]
                values["recent_lags_ms"] = (kept + new)[-LAG_SAMPLES:]
            conn.execute(
                realtime_accounts.update().where(realtime_accounts.c.account_id == account_id).values(values)
            )


def mark_revoked(engine: Engine, account_id: int, *, now: datetime | None = None) -> None:
    """The owner revoked the app's access: stop polling the account (its token answers 401 now) and
    show that it must be connected again. Connecting it again (`accounts add`, "Connect an X account")
    makes it active, and the worker subscribes it again."""
    now = now or utcnow()
    with engine.begin() as conn:
        mode = conn.execute(
            sa.select(realtime_accounts.c.mode).where(realtime_accounts.c.account_id == account_id)
        ).scalar()
        _upsert(
            conn,
            account_id,
            mode or "stream",
            now,
            revoked_at=now,
            subscribed_at=None,
            connected=False,
            last_error="the account's owner revoked Flockdesk's access on X",
        )
        conn.execute(accounts.update().where(accounts.c.id == account_id).values(active=False))


def live_accounts(engine: Engine, *, window_s: float, now: datetime | None = None) -> set[int]:
    """Accounts whose events are being delivered now (connected and seen alive within `window_s`)."""
    now = now or utcnow()
    since = now - timedelta(seconds=window_s)
    with engine.connect() as conn:
        ids = conn.execute(
            sa.select(realtime_accounts.c.account_id).where(
                realtime_accounts.c.connected.is_(True),
                realtime_accounts.c.revoked_at.is_(None),
                realtime_accounts.c.last_heartbeat_at >= since,
            )
        ).scalars()
        return {int(i) for i in ids}


def _percentile(values: Sequence[int], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return float(values[0])
    return float(statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1])


def realtime_status(
    engine: Engine, account_id: int, *, live_window_s: float = 90.0, now: datetime | None = None
) -> RealtimeStatus:
    """Live or polling, and the event lag (last, p50 and p95 over the recent events), for one account."""
    now = now or utcnow()
    with engine.connect() as conn:
        row = (
            conn.execute(sa.select(realtime_accounts).where(realtime_accounts.c.account_id == account_id))
            .mappings()
            .first()
        )
        active = conn.execute(sa.select(accounts.c.active).where(accounts.c.id == account_id)).scalar()
    if row is None:
        return RealtimeStatus(
            account_id, "polling", None, False, None, False, None, None, None, None, None, 0, None, False,
            "Real-time events are off: set FLOCKDESK_X_APP_BEARER_TOKEN (stream) or the webhook settings "
            "(docs/realtime.md); the account is polled.",
        )  # fmt: skip
    beat = as_utc(row["last_heartbeat_at"]) if row["last_heartbeat_at"] else None
    revoked = row["revoked_at"] is not None and not active
    live = (
        bool(row["connected"])
        and not revoked
        and beat is not None
        and beat >= now - timedelta(seconds=live_window_s)
    )
    lags = [int(x) for x in row["recent_lags_ms"] or [] if isinstance(x, int)]
    if revoked:
        advice = "The account's owner revoked Flockdesk's access on X: connect the account again."
    elif row["subscription_error"]:
        advice = (
            f"Some event subscriptions could not be made ({row['subscription_error']}); those are polled."
        )
    elif live:
        advice = "Events arrive in real time; polling runs slower, for backfill and reconciliation."
    else:
        advice = (
            "No events are arriving now (see the last error); the account is polled at its normal "
            "interval until the connection is back."
        )
    return RealtimeStatus(
        account_id=account_id,
        state="live" if live else "polling",
        delivery=row["mode"],
        subscribed=row["subscribed_at"] is not None,
        subscription_error=row["subscription_error"],
        connected=bool(row["connected"]),
        last_event_at=as_utc(row["last_event_at"]) if row["last_event_at"] else None,
        last_heartbeat_at=beat,
        lag_last_ms=row["last_lag_ms"],
        lag_p50_ms=_percentile(lags, 50),
        lag_p95_ms=_percentile(lags, 95),
        lag_samples=len(lags),
        last_error=row["last_error"],
        needs_reconnect=revoked,
        advice=advice,
    )


def last_seen(engine: Engine, account_ids: Collection[int]) -> datetime | None:
    """The latest sign of life (event or keep-alive) of any of these accounts' delivery: where a
    restarted stream resumes from."""
    if not account_ids:
        return None
    with engine.connect() as conn:
        at = conn.execute(
            sa.select(sa.func.max(realtime_accounts.c.last_heartbeat_at)).where(
                realtime_accounts.c.account_id.in_(sorted(account_ids))
            )
        ).scalar()
    return as_utc(at) if at is not None else None
