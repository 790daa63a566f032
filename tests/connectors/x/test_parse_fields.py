"""Engagement counts, media and links are fields of the parsed item (nothing reads `raw` later)."""

from __future__ import annotations

from typing import Any

from flockdesk.connectors.x.parse import iter_items_from_jsonl_line, parse_dm_page, parse_tweet_page
from flockdesk.domain.types import Engagement, InboundItem, Link, Media

ORG = "1000"


def _page() -> dict[str, Any]:
    return {
        "data": [
            {
                "id": "11",
                "text": "@acme the lid cracked https://t.co/p https://t.co/a",
                "author_id": "7",
                "attachments": {"media_keys": ["3_1", "7_2"]},
                "public_metrics": {
                    "retweet_count": 12,
                    "reply_count": 3,
                    "like_count": 40,
                    "quote_count": 1,
                    "impression_count": 900,
                },
                "entities": {
                    "urls": [
                        {
                            "url": "https://t.co/p",
                            "expanded_url": "https://x.com/u/status/11/photo/1",
                            "media_key": "3_1",
                        },
                        {
                            "url": "https://t.co/a",
                            "expanded_url": "https://acme.example/help",
                            "display_url": "acme.example/help",
                        },
                    ]
                },
            },
            {"id": "12", "text": "@acme plain", "author_id": "8"},
        ],
        "includes": {
            "media": [
                {
                    "media_key": "3_1",
                    "type": "photo",
                    "url": "https://pbs.twimg.com/media/p.jpg",
                    "alt_text": "a cracked lid",
                    "width": 1200,
                    "height": 800,
                },
                {
                    "media_key": "7_2",
                    "type": "video",
                    "preview_image_url": "https://pbs.twimg.com/thumb.jpg",
                    "width": 640,
                    "height": 360,
                },
                {"media_key": "9_9", "type": "photo", "url": "https://pbs.twimg.com/someone-else.jpg"},
            ]
        },
    }


def test_a_post_carries_its_engagement_media_and_links() -> None:
    page = parse_tweet_page(_page(), channel="mention", org_user_id=ORG)
    post, plain = page.items
    assert post.engagement == Engagement(likes=40, reposts=12, replies=3, quotes=1, impressions=900)
    assert post.media == (
        Media("photo", "https://pbs.twimg.com/media/p.jpg", None, "a cracked lid", 1200, 800),
        Media("video", None, "https://pbs.twimg.com/thumb.jpg", None, 640, 360),
    )  # the page's other media belong to other posts
    assert post.links == (Link("https://acme.example/help", "acme.example/help"),)
    assert plain.engagement is None and plain.media == () and plain.links == ()


def test_stored_fields_read_back_the_same() -> None:
    post = parse_tweet_page(_page(), channel="mention", org_user_id=ORG).items[0]
    assert post.engagement is not None
    assert Engagement.from_json(post.engagement.to_json()) == post.engagement
    assert Media.list_from_json([m.to_json() for m in post.media]) == post.media
    assert Link.list_from_json([link.to_json() for link in post.links]) == post.links
    assert Engagement.from_json("junk") is None and Media.list_from_json([1, {"kind": "x"}]) == (
        Media("other"),
    )


def test_junk_metrics_and_media_never_fail_a_post() -> None:
    tweet = {
        "id": "13",
        "text": "hi",
        "author_id": "7",
        "public_metrics": {"retweet_count": "many", "like_count": -3, "reply_count": True},
        "attachments": {"media_keys": "3_1", "media": [5, {"media_key": 4}]},
        "entities": {"urls": [{"url": 5}, "nope"]},
    }
    (item,) = iter_items_from_jsonl_line(tweet, org_user_id=ORG)
    assert isinstance(item, InboundItem)
    assert item.engagement == Engagement() and item.media == () and item.links == ()


def test_a_dm_carries_its_media_and_links() -> None:
    page = parse_dm_page(
        {
            "data": [
                {
                    "id": "21",
                    "event_type": "MessageCreate",
                    "text": "see https://t.co/r",
                    "sender_id": "7",
                    "dm_conversation_id": "7-1000",
                    "attachments": {"media_keys": ["3_5"]},
                    "entities": {
                        "urls": [{"url": "https://t.co/r", "expanded_url": "https://acme.example/r"}]
                    },
                }
            ],
            "includes": {
                "media": [{"media_key": "3_5", "type": "animated_gif", "url": "https://pbs.twimg.com/g.mp4"}]
            },
        },
        org_user_id=ORG,
    )
    (dm,) = page.items
    assert dm.media == (Media("gif", "https://pbs.twimg.com/g.mp4"),)
    assert dm.links == (Link("https://acme.example/r"),)
