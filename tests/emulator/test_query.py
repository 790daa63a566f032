"""The recent-search query language, matched against posts in a state."""

from __future__ import annotations

import pytest

from flockdesk.emulator import EmulatorConfig, EmulatorState
from flockdesk.emulator.model import User
from flockdesk.emulator.query import QueryError, compile_query


@pytest.fixture
def posts() -> dict[str, object]:
    st = EmulatorState(EmulatorConfig())
    for i, name in enumerate(["ana", "bob", "cleo"]):
        st.add_user(User(id=str(100 + i), username=name, name=name.title(), verified=name == "cleo"))
    org = st.org.username
    p = {}
    p["mention"] = st.add_post("100", f"@{org} my flight was Delayed again", "mention")
    p["phrase"] = st.add_post("101", "Lost Luggage at the airport, café closed", "name")
    p["tag"] = st.add_post("102", "sunset over the wing #FlySkyward ✨", "hashtag")
    p["reply"] = st.add_post("101", f"@ana @{org} same here", "reply", in_reply_to=p["mention"].id)
    p["rt"] = st.add_post(
        "102", "RT @ana: my flight was delayed again", "retweet", retweet_of=p["mention"].id
    )
    p["url"] = st.add_post("100", "read this https://news.example/skyward-story", "name")
    return p


def _match(query: str, posts: dict[str, object]) -> set[str]:
    m = compile_query(query)
    return {k for k, v in posts.items() if m(v)}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("delayed", {"mention", "rt"}),
        ("DELAYED flight", {"mention", "rt"}),
        ('"lost luggage"', {"phrase"}),
        ("cafe", {"phrase"}),  # accent-insensitive
        ("#flyskyward", {"tag"}),
        ("@SkywardAir", {"mention", "reply"}),
        ("@ana", {"reply", "rt"}),
        ("from:bob", {"phrase", "reply"}),
        ("to:ana", {"reply"}),
        ("delayed -is:retweet", {"mention"}),
        ("@SkywardAir is:reply", {"reply"}),
        ('#FlySkyward OR "lost luggage"', {"tag", "phrase"}),
        ("(delayed OR sunset) -is:retweet", {"mention", "tag"}),
        ("flight -delayed", set()),
        ("airport OR sunset -wing", {"phrase"}),
        (
            '(#FlySkyward OR @SkywardAir OR "lost luggage") -is:retweet lang:en',
            {"tag", "mention", "reply", "phrase"},
        ),
        ("sunset is:verified", {"tag"}),
        ("url:news.example", {"url"}),
        ("has:links read", {"url"}),
    ],
)
def test_operators(query: str, expected: set[str], posts) -> None:
    assert _match(query, posts) == expected


@pytest.mark.parametrize(
    "query",
    [
        "",
        "   ",
        "#",
        "@",
        "-is:retweet",
        "is:reply lang:en",
        "(delayed",
        "delayed)",
        "a OR",
        "foo:bar",
        "is:nonsense x",
        '"unterminated',
    ],
)
def test_bad_queries_are_refused_with_a_reason(query: str) -> None:
    with pytest.raises(QueryError) as info:
        compile_query(query)
    assert str(info.value)
