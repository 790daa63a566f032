"""The account health page: admins only, linked from the accounts page, the platform's error text
shown escaped, the degraded parameters with what to do, and the API version setting."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.connectors.base import Degradation
from flockdesk.services.monitoring import drift
from flockdesk.store.schema import accounts, sources
from tests.rows import add_account_row, add_source_row

from .conftest import Browser

HOSTILE = "<script>alert('x')</script> invalid value 'author_id' for parameter 'post.fields'"


def _account(engine: Engine) -> tuple[int, int, int]:
    acct = add_account_row(engine)
    ok = add_source_row(engine, acct, "mentions")
    bad = add_source_row(engine, acct, "dms")
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            sources.update().where(sources.c.id == ok).values(last_polled_at=now, last_success_at=now)
        )
        conn.execute(
            sources.update()
            .where(sources.c.id == bad)
            .values(last_polled_at=now, last_error=f"dm_events: 400 {HOSTILE}")
        )
    drift.record(engine, ok, [Degradation("post.fields", "author_id", "expansions=author_id", HOSTILE)])
    return acct, ok, bad


def test_admin_sees_states_parameters_and_advice_with_the_platform_text_escaped(
    admin: Browser, engine: Engine
) -> None:
    acct, ok, bad = _account(engine)
    listing = admin.client.get("/settings/accounts").text
    assert f'href="/settings/accounts/{acct}/health"' in listing
    resp = admin.client.get(f"/settings/accounts/{acct}/health")
    assert resp.status_code == 200
    page = resp.text
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert "post.fields=author_id" in page and "expansions=author_id" in page
    assert "Upgrade Flockdesk" in page  # the advice for a degraded source
    assert f'id="source-{ok}"' in page and "state-degraded" in page
    assert f'id="source-{bad}"' in page and "state-failing" in page
    assert "Spend today" in page and "Spend this month" in page and "polling" in page


def test_agents_and_managers_cannot_see_it_and_an_unknown_account_is_404(
    admin: Browser, agent: Browser, manager: Browser, engine: Engine
) -> None:
    acct, _ok, _bad = _account(engine)
    for who in (agent, manager):
        resp = who.client.get(f"/settings/accounts/{acct}/health", follow_redirects=False)
        assert resp.status_code == 403
        assert HOSTILE not in resp.text
        assert who.post(f"/settings/accounts/{acct}/api-version", {"api_version": "2.159"}).status_code == 403
    assert admin.client.get("/settings/accounts/9999/health").status_code == 404


def test_admin_sets_the_api_version(admin: Browser, engine: Engine) -> None:
    acct, _ok, _bad = _account(engine)

    def stored() -> str | None:
        with engine.connect() as conn:
            return conn.execute(sa.select(accounts.c.api_version).where(accounts.c.id == acct)).scalar()

    resp = admin.post(f"/settings/accounts/{acct}/api-version", {"api_version": "2.159"})
    assert resp.status_code == 303 and "notice=" in resp.headers["location"]
    assert stored() == "2.159"
    assert (
        "error="
        in admin.post(f"/settings/accounts/{acct}/api-version", {"api_version": "9"}).headers["location"]
    )
    assert stored() == "2.159"
    admin.post(f"/settings/accounts/{acct}/api-version", {"api_version": ""})
    assert stored() is None
