"""What a message carries besides its text: media (photos, videos, GIFs) and links, as the connector
parsed them (`messages.media`, `messages.links`; domain.types.Media and Link). Nothing is fetched;
the web shows these as plain links (never hotlinked images), and only http(s) URLs become links there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.domain.types import Link, Media
from flockdesk.store.schema import messages

MEDIA_LABELS = {"photo": "Photo", "video": "Video", "gif": "GIF"}
MAX_PER_MESSAGE = 10


@dataclass(frozen=True, slots=True)
class Attachment:
    kind: str  # "Photo" | "Video" | "GIF" | "Media" | "Link"
    url: str  # as the platform gave it; the page decides whether it may be a link


def attachments_of(media: Sequence[Media], links: Sequence[Link]) -> list[Attachment]:
    """Media first (in the message's order), then links; duplicates dropped, at most MAX_PER_MESSAGE."""
    out: list[Attachment] = []
    seen: set[str] = set()

    def add(kind: str, url: str | None) -> None:
        if url and url.strip() and url not in seen and len(out) < MAX_PER_MESSAGE:
            seen.add(url)
            out.append(Attachment(kind, url.strip()))

    for m in media:
        add(MEDIA_LABELS.get(m.kind, "Media"), m.url or m.preview_url)
    for link in links:
        add("Link", link.url)
    return out


def for_conversation(engine: Engine, conversation_id: int) -> dict[int, list[Attachment]]:
    """Message id -> its attachments, for the messages of a conversation that have any."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(messages.c.id, messages.c.media, messages.c.links).where(
                messages.c.conversation_id == conversation_id,
                sa.or_(messages.c.media.is_not(None), messages.c.links.is_not(None)),
            )
        ).all()
    found = {
        int(r.id): attachments_of(Media.list_from_json(r.media), Link.list_from_json(r.links)) for r in rows
    }
    return {k: v for k, v in found.items() if v}
