"""The registry hands out, per platform name, a connector and a rules profile that satisfy the
capability Protocols of connectors/base.py; X's rules live in its profile."""

from __future__ import annotations

import pytest

from flockdesk.connectors import base, registry
from tests import fakenet

RULES = (
    base.DMLinks,
    base.Pricing,
    base.QueryRules,
    base.CursorOrder,
    base.HandleRules,
    base.PacingRules,
    base.ArchiveParser,
    base.TokenRefresher,
    base.PlatformProfile,
)
CAPABILITIES = (
    base.IdentityReader,
    base.MentionsReader,
    base.SearchReader,
    base.OwnPostsReader,
    base.DMReader,
    base.FollowersReader,
    base.PostSender,
    base.DMSender,
    base.ReplyModerator,
    base.CursorOrder,
    base.SourceReader,
    base.Sender,
    base.Closeable,
    base.Connector,
)


def test_x_profile_and_connector_satisfy_the_protocols() -> None:
    profile = registry.profile("x")
    assert all(isinstance(profile, proto) for proto in RULES)
    assert profile.name == "x" and profile.display_name == "X"
    connector = registry.connector_for("x", "http://127.0.0.1:1", "token", org_user_id="1")
    try:
        assert all(isinstance(connector, proto) for proto in CAPABILITIES)
    finally:
        connector.close()


def test_a_registered_platform_is_looked_up_by_name() -> None:
    assert "fakenet" not in registry.platforms()
    with fakenet.registered() as conn:
        assert registry.platforms() == ["fakenet", "x"]
        assert all(isinstance(registry.profile("fakenet"), proto) for proto in RULES)
        got = registry.connector_for("fakenet", "https://fakenet.example", "t")
        assert got is conn and all(isinstance(got, proto) for proto in CAPABILITIES)
    assert "fakenet" not in registry.platforms()


def test_an_unknown_platform_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown platform 'myspace'; known: x"):
        registry.profile("myspace")
    with pytest.raises(ValueError, match="unknown platform"):
        registry.connector_for("myspace", "https://example.com", "t")


def test_x_rules() -> None:
    x = registry.profile("x")
    assert x.dm_deep_link("900") == "https://x.com/messages/compose?recipient_id=900"
    assert x.dm_thread_id("900", "123") == "123-900"  # smaller id first, as X names it
    # snowflakes: a longer number is newer, whatever the digits
    assert x.compare_ids("1000", "999") > 0 and x.compare_ids("999", "1000") < 0
    assert x.compare_ids("42", "42") == 0
    assert x.strip_leading_mentions("@acme @jane_doe thanks!") == "thanks!"
    assert x.normalise_query("#acme") == "#acme -is:retweet"
    with pytest.raises(base.InvalidQuery, match="X allows 512"):
        x.normalise_query("a" * 600)
    assert x.pacing("dm_events") == base.EndpointPacing(60.0, always_spread=True)  # 15 per 15 minutes
    assert x.call_cost("search", 10) == pytest.approx(0.05) and x.search_item_cost() == 0.005
