"""The X parser over recorded payloads (beside the connector) and the twarc2 test data."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flockdesk.connectors.x.parse import (
    is_retweet,
    iter_items_from_jsonl_line,
    parse_dm_page,
    parse_tweet_page,
)
from flockdesk.domain.types import DeadLetter, InboundItem

PAYLOADS = Path(__file__).resolve().parents[3] / "src" / "flockdesk" / "connectors" / "x" / "payloads"
TWARC = Path(__file__).resolve().parents[4] / "shared" / "data" / "x-api-v2-twarc-test-data"
ORG = "1000"


def load(name: str) -> Any:
    return orjson.loads((PAYLOADS / f"{name}.json").read_bytes())


def test_mentions_page_threads_replies_and_keeps_profiles() -> None:
    page = parse_tweet_page(load("mentions__page"), channel="mention", org_user_id=ORG)
    assert page.dead == []
    assert page.next_token == "7140dibdnow9c7btw423i3sy3u5zupmkcpofxcsmxj48j"
    assert page.newest_id == "1860000000000000004"
    by_id = {i.external_id: i for i in page.items}
    reply, first, rt = (
        by_id["1860000000000000003"],
        by_id["1860000000000000001"],
        by_id["1860000000000000004"],
    )
    assert (reply.kind, reply.thread_id, reply.in_reply_to_external_id) == (
        "reply",
        "1860000000000000001",
        "1860000000000000002",
    )
    assert reply.in_reply_to_user_id == "2001"
    assert (first.kind, first.thread_kind, first.channel) == ("mention", "public", "mention")
    assert first.created_at == datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    assert first.author is not None
    assert (first.author.username, first.author.followers_count, first.author.verified) == (
        "u_dana",
        120000,
        True,
    )
    assert first.author.name == "Dana <b>R</b>"  # kept verbatim: escaping is the templates' job
    assert (
        by_id["1860000000000000003"].author is not None and not by_id["1860000000000000003"].author.verified
    )
    assert rt.author is not None and rt.author.verified  # verified_type blue
    assert is_retweet(rt) and not is_retweet(first)
    assert first.raw is not None and first.raw["id"] == first.external_id


def test_search_page_uses_long_text_and_search_kind() -> None:
    page = parse_tweet_page(load("search__hashtag"), channel="search", org_user_id=ORG)
    (item,) = page.items
    assert item.kind == "search" and item.channel == "search"
    assert item.text.endswith("the long version goes on")
    assert item.entities == {"hashtags": [{"start": 19, "end": 26, "tag": "StateU"}]}


def test_malformed_items_become_dead_letters_with_reasons() -> None:
    page = parse_tweet_page(load("mentions__malformed_items"), channel="mention", org_user_id=ORG)
    assert [i.external_id for i in page.items] == ["1860000000000000010"]
    reasons = [d.reason for d in page.dead]
    assert len(reasons) == 5
    assert "missing text" in reasons[0]
    assert "id must be a string" in reasons[1]
    assert "created_at" in reasons[2]
    assert "text must be a string" in reasons[3]
    assert "must be an object" in reasons[4]
    assert all(d.origin == "x:mention" and d.payload for d in page.dead)


def test_empty_and_broken_pages() -> None:
    empty = parse_tweet_page(load("mentions__empty"), channel="mention", org_user_id=ORG)
    assert (empty.items, empty.dead, empty.next_token) == ([], [], None)
    broken = parse_tweet_page({"data": "nope"}, channel="search", org_user_id=None)  # type: ignore[dict-item]
    assert broken.items == [] and "data must be a list" in broken.dead[0].reason


def test_dm_page_direction_recipient_and_ignored_join() -> None:
    page = parse_dm_page(load("dm_events__page"), org_user_id=ORG)
    assert page.next_token == "18LAA5G1SL0NR5OG0G00ZZZZ"
    assert page.newest_id == "1860000000000000033"
    assert [i.external_id for i in page.items] == ["1860000000000000033", "1860000000000000031"]
    ours, theirs = page.items
    assert all(
        (i.kind, i.thread_kind, i.channel, i.thread_id) == ("dm", "dm", "dm", "1000-2001") for i in page.items
    )
    assert ours.author_id == ORG and ours.recipient_id == "2001"
    assert theirs.recipient_id is None
    assert theirs.entities is not None and theirs.entities["urls"][0]["expanded_url"] == "https://example.com"
    assert theirs.author is not None and theirs.author.username == "u_dana"


def test_unknown_dm_events_are_dead_letters_not_drops() -> None:
    page = parse_dm_page(load("dm_events__unknown_event"), org_user_id=ORG)
    assert page.items == []
    assert ["MessageReaction" in page.dead[0].reason, "dm_conversation_id" in page.dead[1].reason] == [
        True,
        True,
    ]


def test_jsonl_line_shapes() -> None:
    flat = list(iter_items_from_jsonl_line(load("tweet__twarc_flattened"), org_user_id=ORG))
    (item,) = flat
    assert isinstance(item, InboundItem)
    assert item.kind == "mention" and item.author is not None and item.author.username == "bagless"
    as_search = list(iter_items_from_jsonl_line(load("tweet__twarc_flattened"), org_user_id=None))
    assert isinstance(as_search[0], InboundItem) and as_search[0].kind == "search"
    page = list(iter_items_from_jsonl_line(load("mentions__page"), org_user_id=ORG))
    assert len(page) == 3 and all(isinstance(i, InboundItem) for i in page)
    dm_items = list(iter_items_from_jsonl_line(load("dm_events__page"), org_user_id=ORG))
    assert {i.kind for i in dm_items if isinstance(i, InboundItem)} == {"dm"}
    assert list(iter_items_from_jsonl_line({"meta": {"result_count": 0}})) == []
    odd = list(iter_items_from_jsonl_line({"id": "1", "action": "delete"}))
    assert len(odd) == 1 and isinstance(odd[0], DeadLetter)
    many = list(iter_items_from_jsonl_line([load("search__hashtag"), 7]))
    assert isinstance(many[0], InboundItem) and isinstance(many[1], DeadLetter)


def test_every_twarc_sample_parses_without_exceptions() -> None:
    if not TWARC.exists():
        pytest.skip(f"{TWARC} is absent (a clone without the shared data): nothing to check")
    items = dead = bad_json = 0
    for path in sorted(TWARC.glob("*.jsonl")):
        for line in path.read_bytes().splitlines():
            if not line.strip():
                continue
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError:
                bad_json += 1
                continue
            for got in iter_items_from_jsonl_line(obj):
                if isinstance(got, InboundItem):
                    items += 1
                    assert got.external_id.isdigit() and got.thread_id.isdigit()
                    assert got.author_id and isinstance(got.text, str)
                    assert got.created_at.tzinfo is not None
                else:
                    dead += 1
                    assert got.reason
    assert bad_json == 1  # streaming_output_with_error.jsonl's deliberate one
    assert items >= 15
    assert dead >= 1  # list and compliance rows are not posts


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "text",
                    "data",
                    "author_id",
                    "created_at",
                    "event_type",
                    "includes",
                    "referenced_tweets",
                    "conversation_id",
                    "author",
                    "users",
                    "meta",
                ]
            ),
            inner,
            max_size=6,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_parser_never_raises_on_arbitrary_json(obj: Any) -> None:
    for got in iter_items_from_jsonl_line(obj, org_user_id=ORG):
        assert isinstance(got, InboundItem | DeadLetter)
    if isinstance(obj, dict):
        parse_tweet_page(obj, channel="search", org_user_id=ORG)
        parse_dm_page(obj, org_user_id=ORG)


def _nested_entities(levels: int) -> dict[str, Any]:
    root: dict[str, Any] = {}
    node = root
    for _ in range(levels):
        node["a"] = {}
        node = node["a"]
    return root


def _post(tid: str, author: str = "200", text: str = "@acme hi") -> dict[str, Any]:
    return {"id": tid, "author_id": author, "text": text, "created_at": "2026-11-01T10:00:00.000Z"}


def test_one_unstorable_post_in_a_page_is_a_dead_letter_and_the_others_are_kept() -> None:
    """A page is checked whole first; when it is too deep or too big, each post is checked alone."""
    deep = _post("3")
    deep["entities"] = _nested_entities(300)
    big = _post("4", text="x")
    big["padding"] = "y" * 1_100_000  # its JSON is over MAX_RAW_BYTES
    payload = {
        "data": [_post("1"), deep, _post("2"), big],
        "includes": {"users": [{"id": "200", "username": "u200", "name": "U", "padding": "z" * 100}]},
    }
    page = parse_tweet_page(payload, channel="mention", org_user_id=ORG)
    assert [i.external_id for i in page.items] == ["1", "2"]
    assert all(i.author is not None and i.author.username == "u200" for i in page.items)
    reasons = [d.reason for d in page.dead]
    assert len(reasons) == 2
    assert "nested deeper than" in reasons[0] and "over the" in reasons[1]


def test_an_unstorable_user_in_a_page_is_left_out_and_its_posts_kept() -> None:
    deep_user = {"id": "300", "username": "deep", "name": "D", "entities": _nested_entities(300)}
    payload = {
        "data": [_post("1", author="300"), _post("2")],
        "includes": {"users": [deep_user, {"id": "200", "username": "u200", "name": "U"}]},
    }
    page = parse_tweet_page(payload, channel="mention", org_user_id=ORG)
    by_id = {i.external_id: i for i in page.items}
    assert by_id["1"].author is None  # the profile could not be stored; the post is
    assert by_id["2"].author is not None and by_id["2"].author.username == "u200"


def test_an_unstorable_dm_event_is_a_dead_letter_and_the_others_are_kept() -> None:
    def event(eid: str) -> dict[str, Any]:
        return {
            "id": eid,
            "event_type": "MessageCreate",
            "sender_id": "200",
            "dm_conversation_id": f"{ORG}-200",
            "created_at": "2026-11-01T10:00:00.000Z",
            "text": "where is my bag",
        }

    deep = event("12")
    deep["attachments"] = _nested_entities(300)
    page = parse_dm_page({"data": [event("11"), deep, event("13")]}, org_user_id=ORG)
    assert [i.external_id for i in page.items] == ["11", "13"]
    assert len(page.dead) == 1 and "nested deeper than" in page.dead[0].reason
