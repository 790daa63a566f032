"""Webhook delivery of real-time events (an install reachable from the internet): the CRC challenge,
signature checks, replay refusal, and a queue in the store that the worker drains through the same
`EventRouter` as the stream (so the web process never ingests or triages).

A delivery is accepted once per event id: the id is kept `webhook_replay_window_s` and a repeat of it
(X's retry after a lost answer, a replay, or an attacker replaying a captured body) is acknowledged
and not queued again; an event older than the window is refused, since its id may have been
forgotten already.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import orjson
import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.connectors import registry
from flockdesk.domain.realtime import ActivityEvent
from flockdesk.domain.utc import as_utc, utcnow
from flockdesk.services.ingest.ingestor import Ingestor
from flockdesk.services.realtime import events as events_svc
from flockdesk.settings import Settings
from flockdesk.store.dialect import upsert
from flockdesk.store.schema import activity_events

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WebhookAnswer:
    status: int
    body: dict[str, object]


def crc(settings: Settings, platform: str, crc_token: str | None) -> WebhookAnswer:
    """The answer to the platform's CRC challenge (GET with `crc_token`)."""
    rules = registry.realtime(platform)
    if rules is None or not settings.x_consumer_secret:
        return WebhookAnswer(404, {"detail": "Webhooks are not configured (FLOCKDESK_X_CONSUMER_SECRET)."})
    if not crc_token or len(crc_token) > 1000:
        return WebhookAnswer(400, {"detail": "crc_token is required"})
    return WebhookAnswer(200, dict(rules.crc_response(settings.x_consumer_secret, crc_token)))


def accept(
    engine: Engine,
    settings: Settings,
    platform: str,
    body: bytes,
    headers: dict[str, str],
    *,
    now: datetime | None = None,
) -> WebhookAnswer:
    """Check and queue one delivery."""
    now = now or utcnow()
    rules = registry.realtime(platform)
    secret = settings.x_consumer_secret
    if rules is None or not secret:
        return WebhookAnswer(404, {"detail": "Webhooks are not configured (FLOCKDESK_X_CONSUMER_SECRET)."})
    if not rules.signature_valid(secret, body, headers):
        log.warning("webhook delivery refused: the signature does not match")
        return WebhookAnswer(403, {"detail": "The signature does not match this delivery."})
    event = rules.parse_line(body)
    if event is None or not event.event_uuid:
        return WebhookAnswer(400, {"detail": "Not an activity event: it has no event_uuid."})
    window = timedelta(seconds=settings.webhook_replay_window_s)
    if event.created_at is not None and as_utc(event.created_at) < now - window:
        return WebhookAnswer(200, {"accepted": False, "reason": "older than the replay window"})
    row = {
        "platform": platform,
        "event_uuid": event.event_uuid[:128],
        "event_type": (event.event_type or "unknown")[:64],
        "body": body.decode("utf-8", "replace"),
        "received_at": now,
    }
    with engine.begin() as conn:
        stmt = (
            upsert(conn, activity_events)
            .values(row)
            .on_conflict_do_nothing(index_elements=["platform", "event_uuid"])
            .returning(activity_events.c.id)
        )
        fresh = conn.execute(stmt).first() is not None
    if not fresh:
        return WebhookAnswer(200, {"accepted": False, "reason": "already received (a replay)"})
    return WebhookAnswer(200, {"accepted": True})


def drain(engine: Engine, ingestor: Ingestor, *, limit: int = 500, now: datetime | None = None) -> int:
    """Apply queued deliveries (oldest first) and mark them processed; returns how many."""
    now = now or utcnow()
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                activity_events.c.id,
                activity_events.c.platform,
                activity_events.c.body,
                activity_events.c.received_at,
            )
            .where(activity_events.c.processed_at.is_(None))
            .order_by(activity_events.c.id)
            .limit(limit)
        ).all()
    by_platform: dict[str, list[tuple[ActivityEvent, datetime]]] = {}
    for row in rows:
        rules = registry.realtime(row.platform)
        event = rules.parse_line(row.body.encode()) if rules is not None else None
        if event is not None:
            by_platform.setdefault(row.platform, []).append((event, as_utc(row.received_at)))
    for platform, batch in by_platform.items():
        events_svc.EventRouter(engine, ingestor, platform).apply(batch)
    if rows:
        with engine.begin() as conn:
            conn.execute(
                activity_events.update()
                .where(activity_events.c.id.in_([r.id for r in rows]))
                .values(processed_at=now)
            )
    return len(rows)


def purge(engine: Engine, settings: Settings, *, now: datetime | None = None) -> int:
    """Forget processed deliveries older than the replay window."""
    now = now or utcnow()
    cutoff = now - timedelta(seconds=settings.webhook_replay_window_s)
    with engine.begin() as conn:
        return int(
            conn.execute(
                activity_events.delete().where(
                    activity_events.c.processed_at.is_not(None), activity_events.c.received_at < cutoff
                )
            ).rowcount
        )


def dumps(answer: WebhookAnswer) -> bytes:
    return orjson.dumps(answer.body)
