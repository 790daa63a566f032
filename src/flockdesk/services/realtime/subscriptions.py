"""Make sure each connected account is subscribed to every real-time event it needs (X: mentions,
replies, quotes, legacy DMs received and sent, X Chat received/sent/joins, follows and unfollows,
OAuth revokes). Idempotent: existing subscriptions are listed first and a 409 counts as "exists", so
the worker calls it at start and for every account connected since."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import Engine

from flockdesk.connectors.base import (
    ActivitySubscriber,
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
) -> SubscriptionReport:
    """Create the account's missing subscriptions and record the outcome. A refused event type (a
    platform that does not offer it yet) is reported and the others still made; an outage or a bad
    token raises ConnectorError and the worker tries again later."""
    report = SubscriptionReport(account_id)
    have = {
        (s.event_type, s.direction)
        for s in connector.list_activity_subscriptions()
        if s.user_id in (user_id, None) and (webhook_id is None or s.webhook_id == webhook_id)
    }
    for event_type, direction in rules.subscriptions:
        if (event_type, direction) in have:
            report.existing.append(event_type)
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
    if report.created or report.refused:
        log.info(
            "account %s: %d event subscriptions created, %d existed, refused: %s",
            account_id,
            len(report.created),
            len(report.existing),
            report.error or "none",
        )
    return report
