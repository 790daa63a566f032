"""An account's API base URL: only public https hosts, or hosts the allow-list names; a remote answer is
never shown back (the connect flow is an admin's way to make the server send requests)."""

from __future__ import annotations

import socket
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from flockdesk.services.accounts import connected as accounts
from flockdesk.services.accounts import oauth
from flockdesk.services.accounts.api_hosts import ApiUrlRefused, check_api_url
from flockdesk.settings import Settings


def _resolves_to(*addresses: str) -> Any:
    def resolve(host: str, port: int, **_kw: Any) -> list[tuple[Any, ...]]:
        family = socket.AF_INET6 if ":" in addresses[0] else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses]

    return resolve


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:8080", "must use https"),
        ("http://api.x.com", "must use https"),
        ("https://10.0.0.1", "not a public"),
        ("https://172.16.5.4", "not a public"),
        ("https://192.168.1.1", "not a public"),
        ("https://169.254.169.254/latest/meta-data", "not a public"),
        ("https://127.0.0.1", "not a public"),
        ("https://0.0.0.0", "not a public"),
        ("https://224.0.0.1", "not a public"),
        ("https://240.0.0.1", "not a public"),
        ("https://100.64.0.1", "not a public"),
        ("https://[::1]", "not a public"),
        ("https://[fe80::1]", "not a public"),
        ("https://[fc00::1]", "not a public"),
        ("https://[::ffff:127.0.0.1]", "not a public"),
        ("https://localhost", "not a public"),  # a name that resolves to loopback
        ("https://user:pw@api.x.com", "user name, password"),
        ("ftp://api.x.com", "must start with https://"),
        ("api.x.com", "must start with https://"),
    ],
)
def test_internal_and_odd_urls_are_refused(url: str, reason: str) -> None:
    with pytest.raises(ApiUrlRefused, match=reason):
        check_api_url(url)


def test_a_name_resolving_to_any_private_address_is_refused() -> None:
    with pytest.raises(ApiUrlRefused, match="allowed_api_hosts"):
        check_api_url("https://api.example.com", resolve=_resolves_to("104.244.42.1", "10.1.2.3"))
    with pytest.raises(ApiUrlRefused, match="cannot be resolved"):
        check_api_url("https://nowhere.invalid")


def test_public_https_and_allow_listed_hosts_pass() -> None:
    public = _resolves_to("104.244.42.1")
    assert check_api_url(" https://api.x.com/ ", resolve=public) == "https://api.x.com"
    assert (
        check_api_url("https://api.x.com", resolve=_resolves_to("2606:4700::6810:84e5"))
        == "https://api.x.com"
    )
    assert check_api_url("http://127.0.0.1:8123", ["127.0.0.1"]) == "http://127.0.0.1:8123"
    assert check_api_url("http://localhost:8123/", ["localhost:8123"]) == "http://localhost:8123"
    with pytest.raises(ApiUrlRefused):
        check_api_url("http://localhost:9999", ["localhost:8123"])  # another port of that host


def test_add_account_refuses_internal_urls_and_stores_nothing(engine: Engine, settings: Settings) -> None:
    strict = settings.model_copy(update={"allowed_api_hosts": []})
    for url in ("http://127.0.0.1:9", "https://10.0.0.1", "https://169.254.169.254", "https://localhost"):
        with pytest.raises(accounts.AccountError, match="--base-url refused"):
            accounts.add_account(engine, strict, base_url=url, token="tok")
    assert accounts.list_accounts(engine) == []


def test_errors_name_the_status_never_the_remote_body(
    engine: Engine, settings: Settings, leaky_http: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(accounts.AccountError) as exc:
        accounts.add_account(
            engine, settings, base_url=leaky_http.url, token="tok"
        )  # 127.0.0.1 is allow-listed
    assert "HTTP 400" in str(exc.value) and leaky_http.secret not in str(exc.value)
    url = oauth.start(
        engine,
        base_url=leaky_http.url,
        purpose="care",
        client_id="c",
        redirect_uri="http://127.0.0.1/cb",
        user_id=None,
        allowed_hosts=["127.0.0.1"],
    )
    state = httpx.URL(url).params["state"]
    with pytest.raises(oauth.OAuthError) as refused:
        oauth.finish(
            engine, state=state, code="abc", redirect_uri="http://127.0.0.1/cb", allowed_hosts=["127.0.0.1"]
        )
    assert "HTTP 400" in str(refused.value) and leaky_http.secret not in str(refused.value)
    assert leaky_http.secret not in caplog.text


def test_the_token_exchange_checks_the_host_again(engine: Engine) -> None:
    url = oauth.start(
        engine,
        base_url="http://127.0.0.1:9",
        purpose="care",
        client_id="c",
        redirect_uri="http://127.0.0.1/cb",
        user_id=None,
        allowed_hosts=["127.0.0.1"],
    )
    state = httpx.URL(url).params["state"]
    calls: list[httpx.Request] = []
    http = httpx.Client(transport=httpx.MockTransport(lambda r: calls.append(r) or httpx.Response(200)))
    with pytest.raises(oauth.OAuthError, match="must use https"):
        # the allow-list changed since the sign-in started: nothing is sent
        oauth.finish(engine, state=state, code="abc", redirect_uri="http://127.0.0.1/cb", http=http)
    assert calls == []
