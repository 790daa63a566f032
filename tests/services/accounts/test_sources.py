"""Listening queries: validated, normalised, retweets excluded by default; sources listed and removed."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from flockdesk.services.accounts import sources
from flockdesk.services.accounts.connected import AccountError
from flockdesk.settings import Settings
from tests.rows import add_account_row


def _account(engine: Engine, ext_id: str) -> int:
    return add_account_row(engine, ext_id=ext_id, username=f"u{ext_id}")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("#acmehelp", "#acmehelp -is:retweet"),
        ("  acme   support ", "acme support -is:retweet"),
        ("#acmehelp OR @acme", "(#acmehelp OR @acme) -is:retweet"),
        ("(#acmehelp OR @acme)", "(#acmehelp OR @acme) -is:retweet"),
        ("(#a OR #b) (x OR y)", "((#a OR #b) (x OR y)) -is:retweet"),
        ('"acme support" lang:en', '"acme support" lang:en -is:retweet'),
        ("acme -is:retweet", "acme -is:retweet"),
    ],
)
def test_queries_are_normalised_and_exclude_retweets(raw: str, expected: str) -> None:
    assert sources.normalise_query(raw, platform="x") == expected


def test_retweets_can_be_included_on_request() -> None:
    assert sources.normalise_query("#acmehelp", platform="x", include_retweets=True) == "#acmehelp"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("#", "nothing to match"),
        ("@", "nothing to match"),
        ("# @", "nothing to match"),
        ("-is:retweet lang:en", "nothing to match"),
        ("OR", "nothing to match"),
        ('"unclosed', "unclosed"),
        ("(acme", "parentheses"),
        ("x" * 600, "512"),
    ],
)
def test_unusable_queries_are_refused_with_a_clear_error(raw: str, message: str) -> None:
    with pytest.raises(sources.QueryError, match=message):
        sources.normalise_query(raw, platform="x")


def test_search_sources_are_added_listed_and_removed(engine: Engine, settings: Settings) -> None:
    with pytest.raises(AccountError, match="accounts add"):
        sources.add_search_source(engine, settings, "#acme")
    first = _account(engine, "1")
    info = sources.add_search_source(engine, settings, "  #acme  ")
    assert info.account_id == first and info.query == "#acme -is:retweet" and info.kind == "search"
    assert info.poll_interval_s == settings.poll_search_s
    with pytest.raises(sources.QueryError, match="already"):
        sources.add_search_source(engine, settings, "#acme")
    _account(engine, "2")
    with pytest.raises(AccountError, match="--account-id"):
        sources.add_search_source(engine, settings, "#other")
    with pytest.raises(AccountError, match="no account with id 99"):
        sources.add_search_source(engine, settings, "#other", account_id=99)
    assert [s.id for s in sources.list_sources(engine)] == [info.id]
    sources.remove_source(engine, info.id)
    assert sources.list_sources(engine) == []
    with pytest.raises(sources.QueryError, match="no source"):
        sources.remove_source(engine, info.id)
