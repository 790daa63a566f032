"""Webhook delivery against the emulator: this install's /webhooks/x (served by uvicorn, so the
emulator's CRC check reaches it) is registered once with POST /2/webhooks, the accounts' subscriptions
deliver to it (stream subscriptions are moved, not doubled), a restart registers nothing new, a
wrong consumer secret is a clear error, and an event posted by the emulator reaches the store. Both
stores."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.routing import Mount

from flockdesk.connectors import registry
from flockdesk.emulator.server import EmulatorServer
from flockdesk.jobs.stream import RealtimeSupervisor
from flockdesk.services.accounts import connected as accounts_svc
from flockdesk.services.ingest.ingestor import Ingestor
from flockdesk.services.realtime import state, webhook_registration, webhooks
from flockdesk.services.realtime.subscriptions import ensure_subscriptions
from flockdesk.settings import Settings
from flockdesk.store.schema import activity_events, messages
from flockdesk.web.webhooks import create_webhook_app
from tests.browser.conftest import free_port


def wait_until(pred: Callable[[], Any], timeout: float, what: str) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = pred()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@dataclass
class Setup:
    emu: EmulatorServer
    engine: Engine
    settings: Settings
    account_id: int

    def webhooks_on_x(self) -> list[dict[str, Any]]:
        r = httpx.get(
            f"{self.emu.base_url}/2/webhooks", headers={"Authorization": f"Bearer {self.emu.app_bearer}"}
        )
        r.raise_for_status()
        return list(r.json()["data"])

    def subscriptions_on_x(self) -> list[Any]:
        connector = accounts_svc.connector_for_account(self.engine, self.settings, self.account_id)
        try:
            return connector.list_activity_subscriptions()  # type: ignore[attr-defined,no-any-return]
        finally:
            connector.close()


@pytest.fixture
def setup(settings: Settings, engine: Engine) -> Iterator[Setup]:
    with EmulatorServer(speedup=60.0, webhook_retries=0) as emu:
        port = free_port()
        settings.allowed_api_hosts = ["127.0.0.1"]
        settings.x_app_bearer_token = emu.app_bearer
        settings.x_consumer_secret = emu.state.config.consumer_secret
        settings.x_webhook_url = f"http://127.0.0.1:{port}/webhooks/x"
        app = Starlette(routes=[Mount("/webhooks", create_webhook_app(settings, engine))])
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        wait_until(lambda: server.started, 15, "the webhook server to start")
        account = accounts_svc.add_account(engine, settings, base_url=emu.base_url, token=emu.token)
        try:
            yield Setup(emu, engine, settings, account.id)
        finally:
            server.should_exit = True
            thread.join(timeout=10)


def test_registration_is_idempotent_and_the_subscriptions_deliver_to_the_webhook(setup: Setup) -> None:
    [(hook, created, reports)] = webhook_registration.setup_all(setup.engine, setup.settings)
    assert created is True and hook.valid and hook.url == setup.settings.x_webhook_url
    on_x = setup.webhooks_on_x()
    assert [(h["id"], h["url"], h["valid"]) for h in on_x] == [(hook.webhook_id, hook.url, True)]
    wanted = {t for t, _d in registry.realtime("x").subscriptions}  # type: ignore[union-attr]
    assert set(reports[0].created) | set(reports[0].existing) | set(reports[0].refused) == wanted
    subs = setup.subscriptions_on_x()
    assert subs and {s.webhook_id for s in subs} == {hook.webhook_id}

    # a restart (a new worker, the CLI again): the same webhook, nothing registered or subscribed twice
    [(again, created_again, reports_again)] = webhook_registration.setup_all(setup.engine, setup.settings)
    assert created_again is False and again.webhook_id == hook.webhook_id
    assert again.registered_at == hook.registered_at
    assert len(setup.webhooks_on_x()) == 1
    assert len(setup.subscriptions_on_x()) == len(subs) and not reports_again[0].created
    status = state.realtime_status(setup.engine, setup.account_id)
    assert (status.delivery, status.connected, status.subscribed) == ("webhook", True, True)


def test_stream_subscriptions_are_moved_to_the_webhook_not_made_twice(setup: Setup) -> None:
    connector = accounts_svc.connector_for_account(setup.engine, setup.settings, setup.account_id)
    rules = registry.realtime("x")
    assert rules is not None
    try:
        me = connector.get_me().external_id
        ensure_subscriptions(setup.engine, setup.account_id, me, connector, rules, mode="stream")  # type: ignore[arg-type]
    finally:
        connector.close()
    before = setup.subscriptions_on_x()
    assert before and all(s.webhook_id is None for s in before)

    [(hook, _created, [report])] = webhook_registration.setup_all(setup.engine, setup.settings)
    after = setup.subscriptions_on_x()
    assert sorted(s.subscription_id for s in after) == sorted(s.subscription_id for s in before)
    assert {s.webhook_id for s in after} == {hook.webhook_id}
    assert sorted(report.moved) == sorted(s.event_type for s in before) and not report.created


def test_a_wrong_consumer_secret_fails_the_crc_check_with_a_clear_error(setup: Setup) -> None:
    setup.settings.x_consumer_secret = "not-the-app-secret"
    with pytest.raises(webhook_registration.WebhookSetupError) as exc:
        webhook_registration.setup_all(setup.engine, setup.settings)
    assert "CRC" in str(exc.value) and "FLOCKDESK_X_CONSUMER_SECRET" in str(exc.value)
    assert setup.webhooks_on_x() == []
    recorded = webhook_registration.get(setup.engine, "x", setup.emu.base_url)
    assert recorded is not None and not recorded.valid and recorded.webhook_id is None
    assert recorded.last_error and "CRC" in recorded.last_error
    assert all(s.webhook_id is None for s in setup.subscriptions_on_x())

    setup.settings.x_consumer_secret = setup.emu.state.config.consumer_secret  # fixed: it registers
    [(hook, created, _r)] = webhook_registration.setup_all(setup.engine, setup.settings)
    assert created and hook.valid and hook.last_error is None


def test_an_event_reaches_the_store_through_the_webhook(setup: Setup) -> None:
    webhook_registration.setup_all(setup.engine, setup.settings)
    post = httpx.post(
        f"{setup.emu.base_url}/_emulator/post",
        json={"author": "webhook_fan", "text": f"@{setup.emu.org_user['username']} my bag is lost"},
    ).json()

    def queued() -> int:
        with setup.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(activity_events)).scalar() or 0)

    wait_until(queued, 20, "the emulator to deliver the mention to /webhooks/x")
    webhooks.drain(setup.engine, Ingestor(setup.engine))
    with setup.engine.connect() as conn:
        stored = conn.execute(sa.select(messages.c.text).where(messages.c.external_id == post["id"])).all()
    assert [r.text for r in stored] == [f"@{setup.emu.org_user['username']} my bag is lost"]


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
def test_missing_settings_say_what_to_set(settings: Settings, engine: Engine) -> None:
    with pytest.raises(webhook_registration.WebhookSetupError, match="FLOCKDESK_X_WEBHOOK_URL"):
        webhook_registration.required_settings(settings)
    settings.x_webhook_url = "https://desk.example.com/webhooks/x"
    with pytest.raises(webhook_registration.WebhookSetupError, match="FLOCKDESK_X_APP_BEARER_TOKEN"):
        webhook_registration.required_settings(settings)
    settings.x_app_bearer_token = "app-token"
    with pytest.raises(webhook_registration.WebhookSetupError, match="FLOCKDESK_X_CONSUMER_SECRET"):
        webhook_registration.required_settings(settings)
    settings.x_consumer_secret = "secret"
    assert webhook_registration.required_settings(settings) == (
        "https://desk.example.com/webhooks/x",
        "app-token",
    )
    with pytest.raises(webhook_registration.WebhookSetupError, match="no connected account"):
        webhook_registration.setup_all(engine, settings)


def test_the_worker_registers_once_across_restarts_and_holds_no_stream(setup: Setup) -> None:
    for owner in ("worker-1", "worker-2"):  # the second is the same install after a restart
        supervisor = RealtimeSupervisor(
            setup.engine,
            setup.settings,
            owner=owner,
            stop=threading.Event(),
            ingestor=Ingestor(setup.engine),
        )
        supervisor.step()
        assert supervisor.consumers == {}  # events come to /webhooks/x, not through the stream
    [hook] = setup.webhooks_on_x()
    recorded = webhook_registration.get(setup.engine, "x", setup.emu.base_url)
    assert recorded is not None and recorded.webhook_id == hook["id"] and recorded.valid
    subs = setup.subscriptions_on_x()
    assert subs and {s.webhook_id for s in subs} == {hook["id"]}
    assert len({(s.event_type, s.direction) for s in subs}) == len(subs)
    status = state.realtime_status(setup.engine, setup.account_id)
    assert (status.state, status.delivery) == ("live", "webhook")
