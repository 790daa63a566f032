"""triage_items: the hook the Ingestor calls for newly stored inbound messages."""

from __future__ import annotations

from datetime import UTC, datetime

from flockdesk.domain.types import Author, Engagement, InboundItem
from flockdesk.domain.vocabulary import LABEL_KEYS
from flockdesk.triage import triage_items, triage_message

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def _item(
    eid: str,
    text: str,
    *,
    dm: bool = False,
    author: Author | None = None,
    engagement: Engagement | None = None,
) -> InboundItem:
    return InboundItem(
        platform="x",
        external_id=eid,
        kind="dm" if dm else "mention",
        thread_kind="dm" if dm else "public",
        thread_id=eid,
        channel="dm" if dm else "mention",
        author_id="7",
        text=text,
        created_at=T0,
        author=author,
        engagement=engagement,
    )


def test_labels_in_order_for_each_item() -> None:
    reporter = Author(
        platform="x",
        external_id="7",
        username="ed",
        name="Ed",
        bio="Reporter, Daily Planet",
        followers_count=80_000,
        verified=True,
    )
    items = [
        _item("1", "@acme my card 4111 1111 1111 1111 was charged twice"),
        _item("2", "my card 4111 1111 1111 1111 was charged twice", dm=True),
        _item("3", "@acme love it", author=reporter),
        _item(
            "4",
            "@acme this blender broke after a day, awful",
            engagement=Engagement(likes=900, reposts=120, replies=40, quotes=3),
        ),
    ]
    labels = triage_items(items)
    assert len(labels) == 4
    assert all(tuple(d) == (*LABEL_KEYS, "lang") for d in labels)
    assert labels[0]["move_to_dm"] is True and labels[0]["sensitive"] == ["payment_card"]
    assert labels[1]["move_to_dm"] is False and labels[1]["sensitive"] == ["payment_card"]  # already a DM
    assert labels[2]["influencer"] is True
    assert labels[3]["urgent"] is True  # visibly spreading
    assert labels[0] == triage_message(items[0].text, channel="mention").to_dict()


def test_empty_batch() -> None:
    assert triage_items([]) == []
