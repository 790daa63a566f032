"""Media and links a post carries are listed in the thread as safe links, never as remote images."""

from __future__ import annotations

from flockdesk.connectors.x.parse import parse_tweet
from flockdesk.domain.types import InboundItem, Link, Media
from flockdesk.services.conversations.attachments import attachments_of

from .conftest import Browser
from .seed import thread

PHOTO_PAGE = "https://x.com/jane/status/1/photo/1"
VIDEO_URL = "https://video.twimg.com/ext_tw_video/2/pu/vid/clip.mp4"


def _entities_and_raw() -> tuple[dict, dict]:
    entities = {
        "urls": [
            {
                "start": 30,
                "end": 53,
                "url": "https://t.co/p",
                "expanded_url": PHOTO_PAGE,
                "display_url": "pic.x.com/p",
                "media_key": "3_1",
            },
            {
                "start": 0,
                "end": 10,
                "url": "https://t.co/a",
                "expanded_url": "https://acme.example/help",
                "display_url": "acme.example/help",
            },
            {
                "start": 0,
                "end": 10,
                "url": "https://t.co/b",
                "expanded_url": "javascript:alert(document.domain)",
                "display_url": "totally-safe.example",
            },
            {
                "start": 0,
                "end": 10,
                "url": "https://t.co/c",
                "expanded_url": "data:text/html,<script>alert(1)</script>",
            },
        ]
    }
    raw = {
        "id": "1",
        "attachments": {
            "media_keys": ["3_1", "7_2"],
            "media": [
                {"media_key": "3_1", "type": "photo", "url": "https://pbs.twimg.com/media/p.jpg"},
                {
                    "media_key": "7_2",
                    "type": "video",
                    "url": VIDEO_URL,
                    "preview_image_url": "https://pbs.twimg.com/thumb.jpg",
                },
            ],
        },
    }
    return entities, raw


def _parsed(entities: dict, raw: dict) -> InboundItem:
    tweet = {**raw, "text": "@acmecare look at this https://t.co/p", "author_id": "9", "entities": entities}
    return parse_tweet(tweet, {}, channel="mention", org_user_id="1")


def test_attachments_come_from_the_parsed_media_and_links() -> None:
    entities, raw = _entities_and_raw()
    item = _parsed(entities, raw)
    got = [(a.kind, a.url) for a in attachments_of(item.media, item.links)]
    assert got[:2] == [("Photo", "https://pbs.twimg.com/media/p.jpg"), ("Video", VIDEO_URL)]
    assert ("Link", "https://acme.example/help") in got
    # with only media_keys and the media's entity (no includes), the post's photo page stands in
    bare = _parsed(entities, {"id": "1", "attachments": {"media_keys": ["3_1"]}})
    assert [(a.kind, a.url) for a in attachments_of(bare.media, bare.links)][0] == ("Media", PHOTO_PAGE)
    assert attachments_of((), ()) == []
    junk = _parsed({"urls": "nope"}, {"id": "1", "attachments": 5})
    assert attachments_of(junk.media, junk.links) == []
    # what the store holds reads back the same
    stored = [m.to_json() for m in item.media], [link.to_json() for link in item.links]
    assert Media.list_from_json(stored[0]) == item.media and Link.list_from_json(stored[1]) == item.links


def test_thread_shows_media_as_safe_links_and_hostile_urls_inert(agent: Browser, engine) -> None:
    entities, raw = _entities_and_raw()
    item = _parsed(entities, raw)
    t = thread(
        engine,
        text="@acmecare look at this https://t.co/p",
        entities=entities,
        raw=raw,
        media=[m.to_json() for m in item.media],
        links=[link.to_json() for link in item.links],
    )
    html = agent.client.get(f"/c/{t['conversation']}").text
    assert 'aria-label="Attachments"' in html
    assert (
        'Photo: <a href="https://pbs.twimg.com/media/p.jpg" rel="noopener noreferrer nofollow" target="_blank">'
        in html
    )
    assert f'Video: <a href="{VIDEO_URL}" rel="noopener noreferrer nofollow"' in html
    assert 'Link: <a href="https://acme.example/help"' in html
    assert 'href="javascript:' not in html and 'href="data:' not in html
    assert "<script>alert(1)</script>" not in html
    assert 'Link: <span class="badlink"' in html  # shown as inert text
    assert "<img" not in html.split('aria-label="Thread"', 1)[1]  # no hotlinked images


def test_message_without_attachments_has_no_list(agent: Browser, engine) -> None:
    t = thread(engine, text="plain words only")
    assert 'aria-label="Attachments"' not in agent.client.get(f"/c/{t['conversation']}").text
