"""Entity extraction for emulated posts and DMs: hashtags, mentions and URLs with end-exclusive indices
(code-point offsets, as X reports them)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Any

MENTION_RE = re.compile(r"(?<![A-Za-z0-9_@])@([A-Za-z0-9_]{1,15})(?![A-Za-z0-9_@])")
HASHTAG_RE = re.compile(r"(?<![\w&#])[#＃](\w*[^\W\d_]\w*)")
CASHTAG_RE = re.compile(r"(?<![\w$])\$([A-Za-z]{1,6})(?![A-Za-z])")
URL_RE = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,:;!?)\]'’]")


def extract(text: str, user_id_for: Callable[[str], str | None]) -> dict[str, list[dict[str, Any]]]:
    """Entity arrays for `text`; `user_id_for(username)` gives a mentioned user's id when known."""
    out: dict[str, list[dict[str, Any]]] = {}
    urls: list[dict[str, Any]] = [
        {
            "start": m.start(),
            "end": m.end(),
            "url": m.group(0),
            "expanded_url": m.group(0),
            "display_url": m.group(0).split("://", 1)[1][:40],
        }
        for m in URL_RE.finditer(text)
    ]
    spans: list[tuple[int, int]] = [(u["start"], u["end"]) for u in urls]

    def outside_urls(start: int) -> bool:
        return not any(a <= start < b for a, b in spans)

    hashtags = [
        {"start": m.start(), "end": m.end(), "tag": m.group(1)}
        for m in HASHTAG_RE.finditer(text)
        if outside_urls(m.start())
    ]
    mentions: list[dict[str, Any]] = []
    for m in MENTION_RE.finditer(text):
        if not outside_urls(m.start()):
            continue
        item: dict[str, Any] = {"start": m.start(), "end": m.end(), "username": m.group(1)}
        uid = user_id_for(m.group(1))
        if uid is not None:
            item["id"] = uid
        mentions.append(item)
    cashtags = [
        {"start": m.start(), "end": m.end(), "tag": m.group(1)}
        for m in CASHTAG_RE.finditer(text)
        if outside_urls(m.start())
    ]
    for key, value in (
        ("hashtags", hashtags),
        ("mentions", mentions),
        ("urls", urls),
        ("cashtags", cashtags),
    ):
        if value:  # the spec's entity arrays have minItems 1: omit empty ones
            out[key] = value
    return out


def fold(text: str) -> str:
    """Case- and accent-insensitive form used by search."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


WORD_RE = re.compile(r"\w+")


def words(folded: str) -> frozenset[str]:
    return frozenset(WORD_RE.findall(folded))
