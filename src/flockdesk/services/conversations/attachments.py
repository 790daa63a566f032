"""What a message carries besides its text: media (photos, videos, GIFs) and links, read from the
platform's own fields kept on the message (`entities`, `raw`). Nothing is fetched; the web shows
these as plain links (never hotlinked images), and only http(s) URLs become links there.

X keeps media as `attachments.media_keys` (+ the page's `includes.media`, which imports flattened by
twarc2 put inline as `attachments.media`), and each media item also appears in `entities.urls` with a
`media_key` and an `expanded_url` to the post's photo/video page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.store.schema import messages

MEDIA_LABELS = {"photo": "Photo", "video": "Video", "animated_gif": "GIF"}
MAX_PER_MESSAGE = 10


@dataclass(frozen=True, slots=True)
class Attachment:
    kind: str  # "Photo" | "Video" | "GIF" | "Media" | "Link"
    url: str  # as the platform gave it; the page decides whether it may be a link


def _media_by_key(raw: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    att = raw.get("attachments")
    media = att.get("media") if isinstance(att, Mapping) else None
    out: dict[str, Mapping[str, Any]] = {}
    for item in media if isinstance(media, list) else []:
        if isinstance(item, Mapping) and isinstance(item.get("media_key"), str):
            out[item["media_key"]] = item
    return out


def _media_keys(raw: Mapping[str, Any]) -> list[str]:
    att = raw.get("attachments")
    keys = att.get("media_keys") if isinstance(att, Mapping) else None
    return [k for k in keys if isinstance(k, str)] if isinstance(keys, list) else []


def attachments_of(entities: Any, raw: Any) -> list[Attachment]:
    """Media first (in the post's order), then links; duplicates dropped, at most MAX_PER_MESSAGE."""
    ents = entities if isinstance(entities, Mapping) else {}
    raw_m = raw if isinstance(raw, Mapping) else {}
    media = _media_by_key(raw_m)
    out: list[Attachment] = []
    seen: set[str] = set()

    def add(kind: str, url: Any) -> None:
        if isinstance(url, str) and url.strip() and url not in seen and len(out) < MAX_PER_MESSAGE:
            seen.add(url)
            out.append(Attachment(kind, url.strip()))

    urls = (
        [u for u in ents.get("urls") or [] if isinstance(u, Mapping)]
        if isinstance(ents.get("urls"), list)
        else []
    )
    media_pages = {u["media_key"]: u for u in urls if isinstance(u.get("media_key"), str)}
    for key in _media_keys(raw_m) or list(media) or list(media_pages):
        item = media.get(key, {})
        kind = MEDIA_LABELS.get(str(item.get("type", "")), "Media")
        page = media_pages.get(key, {})
        add(kind, item.get("url") or page.get("expanded_url") or item.get("preview_image_url"))
    for u in urls:
        if not isinstance(u.get("media_key"), str):
            add("Link", u.get("expanded_url") or u.get("url"))
    return out


def for_conversation(engine: Engine, conversation_id: int) -> dict[int, list[Attachment]]:
    """Message id -> its attachments, for the messages of a conversation that have any."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(messages.c.id, messages.c.entities, messages.c.raw).where(
                messages.c.conversation_id == conversation_id,
                sa.or_(messages.c.entities.is_not(None), messages.c.raw.is_not(None)),
            )
        ).all()
    found = {int(r.id): attachments_of(r.entities, r.raw) for r in rows}
    return {k: v for k, v in found.items() if v}
