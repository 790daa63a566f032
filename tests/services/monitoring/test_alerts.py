"""services/monitoring/alerts.py on SQLite and PostgreSQL, with a local webhook server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.services.monitoring.alerts import acknowledge, check_spike, deliver_pending, list_alerts
from flockdesk.settings import Settings
from flockdesk.store.schema import accounts, alerts, conversations, messages, users

NOW = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)


def _conversation(engine: Engine) -> int:
    with engine.begin() as conn:
        acc = conn.execute(
            accounts.insert().returning(accounts.c.id),
            {
                "platform": "x",
                "external_user_id": "100",
                "username": "acme",
                "base_url": "http://127.0.0.1:1",
                "credentials_encrypted": b"x",
                "created_at": NOW - timedelta(days=30),
            },
        ).scalar_one()
        conv = conn.execute(
            conversations.insert().returning(conversations.c.id),
            {
                "account_id": acc,
                "platform": "x",
                "kind": "public",
                "channel": "mention",
                "external_thread_id": "1",
                "created_at": NOW - timedelta(days=30),
                "last_message_at": NOW,
            },
        ).scalar_one()
    return int(conv)


_seq = iter(range(1, 10**9))


def _add(
    engine: Engine,
    conv: int,
    when: datetime,
    n: int,
    *,
    sentiment: str = "negative",
    urgent: bool = False,
    direction: str = "in",
) -> None:
    rows = [
        {
            "conversation_id": conv,
            "platform": "x",
            "external_id": str(next(_seq)),
            "kind": "mention",
            "direction": direction,
            "text": "bad",
            "created_at": when,
            "ingested_at": when,
            "sentiment": sentiment,
            "urgent": urgent,
        }
        for _ in range(n)
    ]
    with engine.begin() as conn:
        conn.execute(messages.insert(), rows)


def _history(engine: Engine, conv: int, hours: float = 48) -> None:
    """An older, unflagged inbound message: the store has been collecting for `hours` (warm-up)."""
    _add(engine, conv, NOW - timedelta(hours=hours), 1, sentiment="positive")


def _steady_week(engine: Engine, conv: int) -> None:
    for h in range(2, 24 * 7, 3):  # a flagged message every few hours
        _add(engine, conv, NOW - timedelta(hours=h), 1)


class _Hook(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []
    status = 200

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(json.loads(body))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[type[_Hook]]:
    _Hook.received = []
    _Hook.status = 200
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Hook.url = f"http://127.0.0.1:{server.server_address[1]}/hook"  # type: ignore[attr-defined]
    yield _Hook
    server.shutdown()
    server.server_close()


def _settings(url: str | None) -> Settings:
    return Settings(alert_webhook_url=url, http_timeout_s=2.0, secret_key="k")


def test_no_spike_on_usual_level(engine: Engine) -> None:
    conv = _conversation(engine)
    _steady_week(engine, conv)
    _add(engine, conv, NOW - timedelta(minutes=10), 3)
    _add(engine, conv, NOW - timedelta(minutes=10), 40, sentiment="positive")  # happy crowds are no firestorm
    _add(engine, conv, NOW - timedelta(minutes=10), 40, direction="out")  # nor are our own replies
    assert check_spike(engine, NOW) is None
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(alerts)).scalar() == 0


def test_spike_fires_once_and_is_delivered(engine: Engine, webhook: type[_Hook]) -> None:
    conv = _conversation(engine)
    _steady_week(engine, conv)
    _add(engine, conv, NOW - timedelta(minutes=20), 15)
    _add(engine, conv, NOW - timedelta(minutes=5), 5, sentiment="neutral", urgent=True)
    settings = _settings(webhook.url)  # type: ignore[attr-defined]
    alert = check_spike(engine, NOW, settings=settings)
    assert alert is not None and alert.kind == "spike" and alert.delivered
    assert alert.details["current"] == 20
    assert webhook.received == [alert.payload()]
    # the same spike, checked again a few minutes later, is not a new alert
    _add(engine, conv, NOW + timedelta(minutes=5), 10)
    assert check_spike(engine, NOW + timedelta(minutes=10), settings=settings) is None
    stored = list_alerts(engine)
    assert len(stored) == 1 and stored[0].delivered and stored[0].id == alert.id


def test_failed_webhook_keeps_alert_for_retry(engine: Engine, webhook: type[_Hook]) -> None:
    conv = _conversation(engine)
    _history(engine, conv)
    _add(engine, conv, NOW - timedelta(minutes=20), 12)
    webhook.status = 500
    settings = _settings(webhook.url)  # type: ignore[attr-defined]
    alert = check_spike(engine, NOW, settings=settings)
    assert alert is not None and not alert.delivered
    assert not list_alerts(engine)[0].delivered
    webhook.status = 200
    assert deliver_pending(engine, settings) == 1
    assert list_alerts(engine)[0].delivered
    assert deliver_pending(engine, settings) == 0
    assert len(webhook.received) == 2


def test_unreachable_webhook_is_logged_not_raised(engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    conv = _conversation(engine)
    _history(engine, conv)
    _add(engine, conv, NOW - timedelta(minutes=20), 12)
    alert = check_spike(engine, NOW, settings=_settings("http://127.0.0.1:9/nothing-listens"))
    assert alert is not None and not alert.delivered
    assert "not delivered" in caplog.text


def test_concurrent_checks_make_one_alert(engine: Engine) -> None:
    conv = _conversation(engine)
    _history(engine, conv)
    _add(engine, conv, NOW - timedelta(minutes=20), 12)
    results: list[object] = []
    barrier = threading.Barrier(4)

    def check() -> None:
        barrier.wait()
        results.append(check_spike(engine, NOW))

    threads = [threading.Thread(target=check) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r is not None for r in results) == 1
    assert len(list_alerts(engine)) == 1


def test_acknowledge(engine: Engine) -> None:
    conv = _conversation(engine)
    _history(engine, conv)
    _add(engine, conv, NOW - timedelta(minutes=20), 12)
    alert = check_spike(engine, NOW)
    assert alert is not None and list_alerts(engine)[0].acknowledged_by is None
    with engine.begin() as conn:
        uid = conn.execute(
            users.insert().returning(users.c.id),
            {
                "username": "ann",
                "name": "Ann",
                "password_hash": "x",
                "role": "agent",
                "created_at": NOW,
            },
        ).scalar_one()
    assert acknowledge(engine, alert.id, uid)
    assert list_alerts(engine)[0].acknowledged_by == uid
    assert not acknowledge(engine, alert.id + 999, uid)


def test_fresh_store_with_a_burst_does_not_alert_until_warmed_up(engine: Engine) -> None:
    conv = _conversation(engine)
    _add(engine, conv, NOW - timedelta(hours=20), 1, sentiment="positive")  # collecting for 20 h only
    _add(engine, conv, NOW - timedelta(minutes=20), 14)
    assert check_spike(engine, NOW) is None  # no usual level yet: a fresh install opens without a banner
    assert list_alerts(engine) == []
    # the same burst a day into the store's history is a spike
    later = NOW + timedelta(hours=5)
    _add(engine, conv, later - timedelta(minutes=20), 14)
    alert = check_spike(engine, later)
    assert alert is not None and alert.details["current"] == 14
    assert len(list_alerts(engine)) == 1


def test_warm_up_counts_only_inbound_history(engine: Engine) -> None:
    conv = _conversation(engine)
    _add(engine, conv, NOW - timedelta(days=3), 5, direction="out")  # our own old posts are not history
    _add(engine, conv, NOW - timedelta(minutes=20), 14)
    assert check_spike(engine, NOW) is None
    _history(engine, conv, hours=24)
    assert check_spike(engine, NOW) is not None
