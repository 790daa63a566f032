"""The account health page in a real browser (issue 8 §5, §6): the account is set to OpenAPI 2.159
while its API host validates 2.167 strictly (as X's playground does); the worker's polls are refused,
respelled and go on, and the page shows the degraded source with its parameter, the platform's words
and what to do, usable at 390 px."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from flockdesk.services.accounts import connected as accounts_svc
from flockdesk.store.schema import accounts, messages, sources

from .conftest import Stack, shot, wait_until
from .test_golden_path import login

pytestmark = pytest.mark.browser


def test_health_page_shows_a_degraded_source_with_its_parameter_and_advice(
    page, stack: Stack, shared_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    with stack.engine.connect() as conn:
        acct = conn.execute(sa.select(accounts.c.id).limit(1)).scalar_one()
    spec_dir = str(shared_dir / "reference" / "x-openapi")
    httpx.post(
        f"{stack.emu.base_url}/_emulator/config",
        json={"strict_spec": "2.167", "spec_dir": spec_dir},
        timeout=10,
    ).raise_for_status()
    accounts_svc.set_api_version(stack.engine, acct, "2.159")
    post = stack.inject(author="maria_g", text=f"@{stack.emu.org_user['username']} my flight is late")

    def degraded_mentions() -> bool:
        with stack.engine.connect() as conn:
            raw = conn.execute(
                sa.select(sources.c.degraded).where(
                    sources.c.account_id == acct, sources.c.kind == "mentions"
                )
            ).scalar()
            stored = conn.execute(
                sa.select(messages.c.id).where(messages.c.external_id == post["id"])
            ).first()
        return bool(raw) and stored is not None

    wait_until(degraded_mentions, 60, "the worker to degrade the mentions source and store the mention")

    login(page, stack)
    page.goto(stack.url + "/settings/accounts")
    page.click(f"#health-{acct}")
    page.wait_for_url(f"{stack.url}/settings/accounts/{acct}/health")
    card = page.locator(".source-health.state-degraded").filter(has_text="mentions")
    assert card.count() == 1
    text = card.inner_text()
    assert "tweet.fields" in text and "post.fields" in text  # the refused name and what is asked instead
    assert "expansions=author_id" in text and "'author_id'" in text  # X's own words
    assert "Upgrade Flockdesk" in text
    assert "Upgrade Flockdesk" in page.locator("#account-advice").inner_text()
    assert page.get_by_label("The API host speaks").input_value() == "2.159"
    shot(page, "account_health.png")

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways at 390 px ({width} px wide)"
    assert page.locator(".source-health.state-degraded").first.is_visible()
    shot(page, "account_health_390.png")
    assert page.console_errors == []  # type: ignore[attr-defined]
