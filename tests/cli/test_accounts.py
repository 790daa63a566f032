"""`flockdesk accounts webhook register|show`: clear errors without the settings; against the
emulator, one registration however often it runs."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from flockdesk.cli.main import app
from tests.services.realtime.test_webhook_registration import Setup, setup  # noqa: F401 - the fixture


def test_register_without_a_webhook_url_says_what_to_set(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("FLOCKDESK_X_WEBHOOK_URL", raising=False)
    result = CliRunner().invoke(app, ["accounts", "webhook", "register", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "FLOCKDESK_X_WEBHOOK_URL is not set" in result.output
    shown = CliRunner().invoke(app, ["accounts", "webhook", "show", "--data-dir", str(tmp_path)])
    assert shown.exit_code == 0 and "no webhook registered" in shown.output


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
def test_register_twice_registers_once(setup: Setup, monkeypatch) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    s = setup.settings
    env = {
        "FLOCKDESK_SECRET_KEY": s.secret_key or "",
        "FLOCKDESK_ALLOWED_API_HOSTS": '["127.0.0.1"]',
        "FLOCKDESK_X_WEBHOOK_URL": s.x_webhook_url or "",
        "FLOCKDESK_X_APP_BEARER_TOKEN": s.x_app_bearer_token or "",
        "FLOCKDESK_X_CONSUMER_SECRET": s.x_consumer_secret or "",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    args = ["accounts", "webhook", "register", "--data-dir", str(s.data_dir)]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    [hook] = setup.webhooks_on_x()
    assert f"x webhook {hook['id']} registered for {s.x_webhook_url}" in first.output
    assert "account 1:" in first.output and "subscriptions created" in first.output
    second = CliRunner().invoke(app, args)
    assert second.exit_code == 0 and f"x webhook {hook['id']} already registered" in second.output
    assert len(setup.webhooks_on_x()) == 1
    shown = CliRunner().invoke(app, ["accounts", "webhook", "show", "--data-dir", str(s.data_dir)])
    assert f"webhook {hook['id']} for {s.x_webhook_url}, valid" in shown.output
    assert "secret" not in shown.output.lower() and (s.x_app_bearer_token or "?") not in first.output
