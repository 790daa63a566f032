"""X listening queries: narrowed to leave the account's own mentions to the owned-read path."""

from __future__ import annotations

from flockdesk.connectors.x.query import MAX_QUERY_LEN, normalise_query, without_mentions_of


def test_the_exclusion_applies_to_the_whole_query() -> None:
    q = normalise_query("#skywardhelp OR skyward")
    assert q == "(#skywardhelp OR skyward) -is:retweet"
    assert without_mentions_of(q, "SkywardAir") == "(#skywardhelp OR skyward) -is:retweet -@SkywardAir"
    # an OR at the top level is grouped first: AND binds tighter than OR on X
    bare = normalise_query("#a OR #b", include_reposts=True)
    assert without_mentions_of(bare, "@acme") == "(#a OR #b) -@acme"


def test_a_query_that_excludes_them_already_or_would_be_too_long_is_left_alone() -> None:
    assert without_mentions_of("#a -@Acme", "acme") == "#a -@Acme"
    long = "x" * (MAX_QUERY_LEN - 3)
    assert without_mentions_of(long, "acme") == long
    assert without_mentions_of("#a", "") == "#a"
