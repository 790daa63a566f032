"""Spike alerts: negative-or-urgent inbound messages per hour far above their usual level.

`check_spike` counts from the store, asks triage/spike.py, writes one `alerts` row per spike and POSTs
it to the configured webhook. It stays silent while the store holds less than 24 hours of inbound
history (triage/spike.py WARMUP_HOURS): without a usual level there is nothing to be far above. A failed POST is logged and leaves `delivered` false; `deliver_pending`
retries those.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.domain.utc import as_utc
from flockdesk.settings import Settings
from flockdesk.store import dialect
from flockdesk.store.schema import alerts, messages
from flockdesk.triage.spike import BASELINE_HOURS, detect, hourly_counts, warmup_cutoff, window_start

log = logging.getLogger(__name__)

SPIKE_COOLDOWN = timedelta(hours=3)  # a spike that goes on is one alert, not one per check
_LOCK_KEY = 0x5F1CE  # serialises spike checks across workers


@dataclass(frozen=True, slots=True)
class Alert:
    id: int
    kind: str
    at: datetime
    details: dict[str, Any]
    delivered: bool
    acknowledged_by: int | None = None

    def payload(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "at": self.at.isoformat(), "details": self.details}


def _flagged_times(conn: sa.Connection, now: datetime) -> list[datetime]:
    q = sa.select(messages.c.created_at).where(
        messages.c.direction == "in",
        messages.c.created_at >= window_start(now),
        messages.c.created_at <= now,
        sa.or_(messages.c.sentiment == "negative", messages.c.urgent.is_(True)),
    )
    return [row[0] for row in conn.execute(q)]


def _warmed_up(conn: sa.Connection, now: datetime) -> bool:
    """Some inbound message is at least WARMUP_HOURS old (EXISTS: stops at the first one found)."""
    old = sa.select(messages.c.id).where(
        messages.c.direction == "in", messages.c.created_at <= warmup_cutoff(now)
    )
    return bool(conn.execute(sa.select(old.exists())).scalar())


def _recent_spike(conn: sa.Connection, now: datetime) -> bool:
    q = sa.select(alerts.c.at).where(alerts.c.kind == "spike").order_by(alerts.c.at.desc()).limit(1)
    last = conn.execute(q).scalar()
    return last is not None and now - last < SPIKE_COOLDOWN


def check_spike(engine: Engine, now: datetime, *, settings: Settings | None = None) -> Alert | None:
    """Record (and send) a spike alert when this hour's flagged messages are far above usual."""
    now = as_utc(now)
    with engine.begin() as conn:
        dialect.serialize_transaction(conn, _LOCK_KEY)  # two workers checking at once still make one alert
        current, baseline = hourly_counts(_flagged_times(conn, now), now, BASELINE_HOURS)
        verdict = detect(current, baseline)
        if not verdict.spike or not _warmed_up(conn, now) or _recent_spike(conn, now):
            return None
        details: dict[str, Any] = {
            "what": "negative or urgent inbound messages in the last hour",
            "window_end": now.isoformat(),
            **verdict.details(),
        }
        insert = alerts.insert().values(kind="spike", at=now, details=details, delivered=False)
        new_id = conn.execute(insert.returning(alerts.c.id)).scalar_one()
    alert = Alert(int(new_id), "spike", now, details, False)
    url = settings.alert_webhook_url if settings is not None else None
    if url and settings is not None and _post(url, alert, settings.http_timeout_s):
        _mark_delivered(engine, alert.id)
        alert = Alert(alert.id, alert.kind, alert.at, alert.details, True)
    return alert


def _post(url: str, alert: Alert, timeout: float) -> bool:
    try:
        resp = httpx.post(url, json=alert.payload(), timeout=timeout)
        resp.raise_for_status()
    except httpx.HTTPError as exc:
        log.warning("alert %s not delivered to webhook: %s", alert.id, exc)
        return False
    return True


def _mark_delivered(engine: Engine, alert_id: int) -> None:
    with engine.begin() as conn:
        conn.execute(alerts.update().where(alerts.c.id == alert_id).values(delivered=True))


def deliver_pending(engine: Engine, settings: Settings) -> int:
    """Retry webhook delivery of undelivered alerts; returns how many were delivered now."""
    if not settings.alert_webhook_url:
        return 0
    with engine.connect() as conn:
        q = sa.select(alerts).where(alerts.c.delivered.is_(False)).order_by(alerts.c.id)
        rows = conn.execute(q).all()
    sent = 0
    for r in rows:
        alert = _alert(r)
        if _post(settings.alert_webhook_url, alert, settings.http_timeout_s):
            _mark_delivered(engine, alert.id)
            sent += 1
    return sent


def _alert(r: Any) -> Alert:
    return Alert(int(r.id), r.kind, r.at, dict(r.details or {}), bool(r.delivered), r.acknowledged_by)


def list_alerts(engine: Engine, limit: int = 50) -> list[Alert]:
    with engine.connect() as conn:
        q = sa.select(alerts).order_by(alerts.c.at.desc(), alerts.c.id.desc()).limit(limit)
        rows = conn.execute(q).all()
    return [_alert(r) for r in rows]


def latest_unacknowledged(engine: Engine) -> Alert | None:
    """The newest alert nobody has acknowledged yet (the web banner), or None."""
    with engine.connect() as conn:
        q = sa.select(alerts).where(alerts.c.acknowledged_by.is_(None)).order_by(alerts.c.id.desc()).limit(1)
        row = conn.execute(q).first()
    return None if row is None else _alert(row)


def acknowledge(engine: Engine, alert_id: int, user_id: int) -> bool:
    """Mark an alert as seen by a user (the web banner's "Acknowledge"); False if it does not exist."""
    with engine.begin() as conn:
        q = alerts.update().where(alerts.c.id == alert_id).values(acknowledged_by=user_id)
        n = conn.execute(q).rowcount
    return bool(n)
