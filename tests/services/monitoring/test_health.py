"""The account health summary: state and advice per source, degraded parameters, spend, live/polling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.connectors.base import Degradation
from flockdesk.domain.errors import NotFound
from flockdesk.services.accounts import connected as accounts_svc
from flockdesk.services.accounts import costs
from flockdesk.services.monitoring import drift, health
from flockdesk.store.schema import accounts, realtime_accounts, sources
from tests.rows import add_account_row, add_source_row

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def _set(engine: Engine, sid: int, **values: object) -> None:
    with engine.begin() as conn:
        conn.execute(sources.update().where(sources.c.id == sid).values(**values))


def test_each_source_gets_its_state_and_what_to_do(engine: Engine, account_id: int) -> None:
    ok = add_source_row(engine, account_id, "mentions")
    degraded = add_source_row(engine, account_id, "dms")
    limited = add_source_row(engine, account_id, "search", "#acme")
    revoked = add_source_row(engine, account_id, "search", "acme help")
    fresh = add_source_row(engine, account_id, "search", "acme sale")
    polled = NOW - timedelta(minutes=1)
    _set(engine, ok, last_polled_at=polled, last_success_at=polled)
    _set(engine, degraded, last_polled_at=polled, last_success_at=polled)
    drift.record(
        engine, degraded, [Degradation("dm_event.fields", "sender_id", "expansions=sender_id", "no")]
    )
    _set(
        engine,
        limited,
        last_polled_at=polled,
        last_error="rate limited: 429 Too Many Requests",
        next_poll_at=NOW + timedelta(minutes=14),
    )
    _set(engine, revoked, last_polled_at=polled, last_error="search: 401 Unauthorized")
    got = health.account_health(engine, account_id, now=NOW)
    by_id = {s.id: s for s in got.sources}
    assert [by_id[i].state for i in (ok, degraded, limited, revoked, fresh)] == [
        "ok",
        "degraded",
        "rate_limited",
        "auth_failed",
        "not_polled",
    ]
    assert by_id[degraded].degraded[0].refused == "dm_event.fields=sender_id"
    assert by_id[degraded].degraded[0].replacement == "expansions=sender_id"
    assert "Upgrade Flockdesk" in by_id[degraded].advice
    assert "connect the account again" in by_id[revoked].advice
    assert "resumes by itself" in by_id[limited].advice
    assert by_id[limited].advice.endswith("Wait until 2026-12-05 12:14 UTC.")
    assert by_id[ok].last_success_at == polled and by_id[limited].last_success_at is None
    assert got.degraded and got.api_version == "2.167" and got.api_version_set is None
    assert {s.delivery for s in got.sources} == {"polling"}  # no real-time delivery configured
    assert health.ADVICE["degraded"] in got.advice and health.ADVICE["auth_failed"] in got.advice


def test_live_events_mark_mentions_and_dms_live_and_lag_is_reported(engine: Engine, account_id: int) -> None:
    mentions = add_source_row(engine, account_id, "mentions")
    search = add_source_row(engine, account_id, "search", "#acme")
    with engine.begin() as conn:
        conn.execute(
            realtime_accounts.insert().values(
                account_id=account_id,
                mode="stream",
                subscribed_at=NOW,
                connected=True,
                last_heartbeat_at=NOW - timedelta(seconds=5),
                last_event_at=NOW - timedelta(seconds=5),
                last_lag_ms=900,
                recent_lags_ms=[800, 900, 1000],
                updated_at=NOW,
            )
        )
    got = health.account_health(engine, account_id, now=NOW)
    delivery = {s.id: s.delivery for s in got.sources}
    assert delivery == {mentions: "live", search: "polling"}
    assert got.realtime.state == "live" and got.realtime.lag_p50_ms == 900


def test_spend_is_per_account_today_and_this_month(engine: Engine, account_id: int) -> None:
    other = add_account_row(engine, ext_id="2000", username="other")
    costs.record_call(engine, account_id, "mentions", 100, at=NOW)
    costs.record_call(engine, account_id, "mentions", 100, at=NOW - timedelta(days=2))
    costs.record_call(engine, account_id, "mentions", 100, at=NOW - timedelta(days=40))  # another month
    costs.record_call(engine, other, "search", 1000, at=NOW)
    one_day = health.spend(engine, account_id, today=NOW.date())
    assert one_day.today_usd > 0 and one_day.month_usd == pytest.approx(one_day.today_usd * 2)
    assert health.spend(engine, other, today=NOW.date()).today_usd > one_day.today_usd


def test_api_version_is_set_checked_and_an_unknown_account_is_not_found(
    engine: Engine, account_id: int
) -> None:
    sid = add_source_row(engine, account_id, "mentions")
    drift.record(engine, sid, [Degradation("post.fields", None, "tweet.fields", "unknown parameter")])
    accounts_svc.set_api_version(engine, account_id, "2.159")
    assert health.account_health(engine, account_id, now=NOW).api_version == "2.159"
    assert drift.load(engine, sid) == []  # learnt under the old spelling: forgotten
    with pytest.raises(accounts_svc.AccountError, match="2.159, 2.167"):
        accounts_svc.set_api_version(engine, account_id, "1.1")
    accounts_svc.set_api_version(engine, account_id, None)
    with engine.connect() as conn:
        assert conn.execute(sa.select(accounts.c.api_version)).scalar() is None
    with pytest.raises(NotFound):
        health.account_health(engine, 9999, now=NOW)
