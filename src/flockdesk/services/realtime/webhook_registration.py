"""Webhook delivery of real-time events: register this install's `/webhooks/x` with the platform
(`x_webhook_url`), then point every connected account's activity subscriptions at it instead of the
persistent stream.

The registration is kept in `realtime_webhooks` (one row per platform and API base URL: the platform's
webhook id, whether it answered the CRC check, the last error in the platform's words). It is
idempotent: the platform's own list is read first and a webhook for the same URL is reused (validated
again when the platform marked it invalid), so a restarted worker, a second worker or the CLI never
registers it twice.

Both the worker (jobs/stream.py, when `x_webhook_url` is set) and `flockdesk accounts webhook
register` call `register` and `subscribe_accounts`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.connectors import registry
from flockdesk.connectors.base import ActivitySubscriber, ConnectorError, WebhookRegistrar
from flockdesk.domain.errors import InvalidInput
from flockdesk.domain.utc import as_utc, utcnow
from flockdesk.services.accounts import connected as accounts_svc
from flockdesk.services.realtime import state
from flockdesk.services.realtime.subscriptions import SubscriptionReport, ensure_subscriptions
from flockdesk.settings import Settings
from flockdesk.store.dialect import upsert
from flockdesk.store.schema import realtime_webhooks

log = logging.getLogger(__name__)


class WebhookSetupError(InvalidInput):
    """The webhook cannot be registered; the message says what to change."""


@dataclass(frozen=True)
class WebhookState:
    platform: str
    base_url: str
    url: str
    webhook_id: str | None
    valid: bool
    registered_at: datetime | None
    checked_at: datetime
    last_error: str | None

    def as_json(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        for key in ("registered_at", "checked_at"):
            out[key] = out[key].isoformat() if out[key] is not None else None
        return out


def required_settings(settings: Settings) -> tuple[str, str]:
    """(webhook URL, app bearer token), or WebhookSetupError naming what is missing."""
    url = (settings.x_webhook_url or "").strip()
    if not url:
        raise WebhookSetupError(
            "FLOCKDESK_X_WEBHOOK_URL is not set: set it to this install's public https URL of "
            "/webhooks/x (e.g. https://desk.example.com/webhooks/x)"
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookSetupError(f"FLOCKDESK_X_WEBHOOK_URL {url!r} is not a URL: use https://HOST/webhooks/x")
    if not settings.x_app_bearer_token:
        raise WebhookSetupError(
            "FLOCKDESK_X_APP_BEARER_TOKEN is not set: X registers webhooks with the app's bearer token"
        )
    if not settings.x_consumer_secret:
        raise WebhookSetupError(
            "FLOCKDESK_X_CONSUMER_SECRET is not set: without it /webhooks/x cannot answer X's CRC "
            "challenge, and X refuses the webhook"
        )
    return url, settings.x_app_bearer_token


def _record(
    engine: Engine,
    platform: str,
    base_url: str,
    url: str,
    now: datetime,
    *,
    webhook_id: str | None = None,
    error: str | None = None,
) -> None:
    values: dict[str, Any] = {"url": url, "checked_at": now, "last_error": error, "valid": error is None}
    if webhook_id is not None:
        values["webhook_id"] = webhook_id
    with engine.begin() as conn:
        known = conn.execute(
            sa.select(realtime_webhooks.c.webhook_id, realtime_webhooks.c.registered_at).where(
                realtime_webhooks.c.platform == platform, realtime_webhooks.c.base_url == base_url
            )
        ).first()
        if webhook_id is not None and (known is None or known.webhook_id != webhook_id):
            values["registered_at"] = now
        stmt = upsert(conn, realtime_webhooks).values(platform=platform, base_url=base_url, **values)
        conn.execute(stmt.on_conflict_do_update(index_elements=["platform", "base_url"], set_=values))


def get(engine: Engine, platform: str, base_url: str) -> WebhookState | None:
    with engine.connect() as conn:
        row = (
            conn.execute(
                sa.select(realtime_webhooks).where(
                    realtime_webhooks.c.platform == platform,
                    realtime_webhooks.c.base_url == base_url.rstrip("/"),
                )
            )
            .mappings()
            .first()
        )
    if row is None:
        return None
    return WebhookState(
        row["platform"],
        row["base_url"],
        row["url"],
        row["webhook_id"],
        bool(row["valid"]),
        as_utc(row["registered_at"]) if row["registered_at"] else None,
        as_utc(row["checked_at"]),
        row["last_error"],
    )


def list_states(engine: Engine) -> list[WebhookState]:
    with engine.connect() as conn:
        keys = conn.execute(
            sa.select(realtime_webhooks.c.platform, realtime_webhooks.c.base_url).order_by(
                realtime_webhooks.c.id
            )
        ).all()
    return [s for s in (get(engine, p, b) for p, b in keys) if s is not None]


def register(
    engine: Engine, settings: Settings, platform: str, base_url: str, *, now: datetime | None = None
) -> tuple[WebhookState, bool]:
    """The platform's webhook for `x_webhook_url` on `base_url`: found or registered (True), and
    recorded. WebhookSetupError with the platform's words when it cannot be (the failure is recorded
    too, for `flockdesk status`)."""
    url, bearer = required_settings(settings)
    base_url = base_url.rstrip("/")
    rules = registry.realtime(platform)
    if not isinstance(rules, WebhookRegistrar):
        raise WebhookSetupError(f"{platform} has no webhook delivery of real-time events")
    now = now or utcnow()
    try:
        hook, created = rules.ensure_webhook(base_url, bearer, url)
    except ConnectorError as exc:
        _record(engine, platform, base_url, url, now, error=exc.detail)
        raise WebhookSetupError(
            f"{registry.profile(platform).display_name} did not accept the webhook {url} ({exc.detail}). "
            "Check that the URL reaches this install's /webhooks/x from the internet over https, and "
            "that FLOCKDESK_X_CONSUMER_SECRET is the app's consumer secret (it answers the CRC check)."
        ) from exc
    _record(engine, platform, base_url, url, now, webhook_id=hook.webhook_id)
    if created:
        log.info("%s webhook %s registered for %s", platform, hook.webhook_id, base_url)
    found = get(engine, platform, base_url)
    assert found is not None  # recorded just above
    return found, created


def mover(settings: Settings, platform: str, base_url: str, webhook_id: str) -> Callable[[str], None] | None:
    """What points an existing subscription (by id) at the webhook, for `ensure_subscriptions`."""
    rules = registry.realtime(platform)
    bearer = settings.x_app_bearer_token
    if not isinstance(rules, WebhookRegistrar) or not bearer:
        return None
    return lambda subscription_id: rules.move_subscription(base_url, bearer, subscription_id, webhook_id)


def subscribe_accounts(
    engine: Engine,
    settings: Settings,
    platform: str,
    base_url: str,
    webhook_id: str,
    *,
    connector_for: Callable[[int], object] | None = None,
) -> list[SubscriptionReport]:
    """Every active account of this platform and base URL subscribed with delivery to the webhook;
    the accounts count as connected (the webhook answered the CRC check)."""
    rules = registry.realtime(platform)
    if rules is None:
        return []
    make = connector_for or (
        lambda account_id: accounts_svc.connector_for_account(engine, settings, account_id)
    )
    reports: list[SubscriptionReport] = []
    for account in state.realtime_accounts_list(engine):
        if account.platform != platform or account.base_url.rstrip("/") != base_url.rstrip("/"):
            continue
        connector = make(account.id)
        try:
            if not isinstance(connector, ActivitySubscriber):
                continue
            reports.append(
                ensure_subscriptions(
                    engine,
                    account.id,
                    account.external_user_id,
                    connector,
                    rules,
                    mode="webhook",
                    webhook_id=webhook_id,
                    move=mover(settings, platform, base_url, webhook_id),
                )
            )
            state.mark_connected(engine, [account.id], "webhook", connected=True)
        except ConnectorError as exc:
            log.warning("account %s: cannot subscribe to webhook delivery: %s", account.id, exc.detail)
            state.mark_subscribed(engine, account.id, "webhook", error=exc.detail)
        finally:
            close = getattr(connector, "close", None)
            if callable(close):
                close()
    return reports


def setup_all(
    engine: Engine, settings: Settings, *, connector_for: Callable[[int], object] | None = None
) -> list[tuple[WebhookState, bool, list[SubscriptionReport]]]:
    """Register the webhook for every platform API the active accounts use, and subscribe them."""
    required_settings(settings)
    targets = sorted({(a.platform, a.base_url.rstrip("/")) for a in state.realtime_accounts_list(engine)})
    if not targets:
        raise WebhookSetupError(
            "no connected account has real-time events: add one with `flockdesk accounts add`"
        )
    out = []
    for platform, base_url in targets:
        hook, created = register(engine, settings, platform, base_url)
        assert hook.webhook_id is not None  # registered
        reports = subscribe_accounts(
            engine, settings, platform, base_url, hook.webhook_id, connector_for=connector_for
        )
        out.append((hook, created, reports))
    return out
