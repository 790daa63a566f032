"""Make sure each connected account is subscribed to every real-time event it needs (X: mentions,
replies, quotes, legacy DMs received and sent, X Chat received/sent/joins, follows and unfollows,
OAuth revokes). Idempotent: existing subscriptions are listed first and a 409 counts as "exists", so
the worker calls it at start and for every account connected since."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine

from flockdesk.connectors.base import (
    ActivitySubscriber,
    ActivitySubscription,
    PlatformRejected,
    RealtimeRules,
)
from flockdesk.services.realtime import state

log = logging.getLogger(__name__)


@dataclass
class SubscriptionReport:
    account_id: int
    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)  # pointed at the webhook (they delivered elsewhere)
    refused: dict[str, str] = field(default_factory=dict)  # event type -> the platform's words

    @property
    def error(self) -> str | None:
        if not self.refused:
            return None
        return "; ".join(f"{k}: {v}" for k, v in sorted(self.refused.items()))


def ensure_subscriptions(
    engine: Engine,
    account_id: int,
    user_id: str,
    connector: ActivitySubscriber,
    rules: RealtimeRules,
    *,
    mode: state.Delivery,
    webhook_id: str | None = None,
    move: Callable[[str], None] | None = None,
) -> SubscriptionReport:
    """Create the account's missing subscriptions and record the outcome. A refused event type (a
    platform that does not offer it yet) is reported and the others still made; an outage or a bad
    token raises ConnectorError and the worker tries again later.

    With `webhook_id` and `move` (points a subscription, by id, at that webhook), the account's
    subscriptions that deliver elsewhere (the stream, an older webhook) are moved rather than made
    again (the platform refuses a second subscription with the same filter)."""
    report = SubscriptionReport(account_id)
    listed = connector.list_activity_subscriptions()
    have = {
        (s.event_type, s.direction)
        for s in listed
        if s.user_id in (user_id, None) and (webhook_id is None or s.webhook_id == webhook_id)
    }
    elsewhere: dict[tuple[str, str | None], ActivitySubscription] = {}
    if webhook_id is not None:
        for s in listed:
            if s.user_id == user_id and s.webhook_id != webhook_id:
                elsewhere.setdefault((s.event_type, s.direction), s)
    for event_type, direction in rules.subscriptions:
        if (event_type, direction) in have:
            report.existing.append(event_type)
            continue
        other = elsewhere.get((event_type, direction))
        if other is not None and move is not None:
            try:
                move(other.subscription_id)
                report.moved.append(event_type)
            except PlatformRejected as exc:
                report.refused[event_type] = exc.detail
            continue
        try:
            connector.create_activity_subscription(
                event_type, user_id, direction=direction, webhook_id=webhook_id
            )
            report.created.append(event_type)
        except PlatformRejected as exc:
            if exc.status == 409:
                report.existing.append(event_type)
            else:
                report.refused[event_type] = exc.detail
    state.mark_subscribed(engine, account_id, mode, error=report.error)
    if report.created or report.moved or report.refused:
        log.info(
            "account %s: %d event subscriptions created, %d moved to the webhook, %d existed, refused: %s",
            account_id,
            len(report.created),
            len(report.moved),
            len(report.existing),
            report.error or "none",
        )
    return report
