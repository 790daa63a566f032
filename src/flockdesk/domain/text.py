"""Length rules for outbound text: X's weighted length (twitter-text v3) for posts, characters for DMs.

Posts (replies, public acknowledgements) use twitter-text's v3 configuration: most Latin text
weighs 1, CJK and emoji 2 (an emoji sequence counts once), every URL 23, limit 280. DMs allow
10,000 characters (Unicode code points).
"""

from __future__ import annotations

import unicodedata
import warnings
from typing import Any

from flockdesk.domain.vocabulary import TEXT_KINDS

with warnings.catch_warnings():
    # twitter-text-parser 3.0 loads its emoji table through pkg_resources (deprecated, still works)
    warnings.simplefilter("ignore", UserWarning)
    warnings.simplefilter("ignore", DeprecationWarning)
    from twitter_text import parse_tweet
    from twitter_text.config import config as _tt_config

POST_LIMIT = 280
DM_LIMIT = 10_000
V3_OPTIONS: dict[str, Any] = _tt_config["version3"]


def _check_kind(kind: str) -> None:
    if kind not in TEXT_KINDS:
        raise ValueError(f"unknown text kind {kind!r}: use one of {', '.join(TEXT_KINDS)}")


def limit_for(kind: str) -> int:
    _check_kind(kind)
    return DM_LIMIT if kind == "dm" else POST_LIMIT


def weighted_length(text: str, kind: str = "post") -> int:
    """The length X counts against the limit for this kind of message."""
    _check_kind(kind)
    if kind == "dm":
        return len(unicodedata.normalize("NFC", text))
    return int(parse_tweet(text, V3_OPTIONS).weightedLength)


def is_valid(text: str, kind: str = "post") -> bool:
    """True when the text is non-blank, within the limit and (for posts) free of invalid characters."""
    if not text.strip():
        return False
    if kind == "dm":
        return weighted_length(text, kind) <= DM_LIMIT
    _check_kind(kind)
    return bool(parse_tweet(text, V3_OPTIONS).valid)


def length_info(text: str, kind: str = "post") -> dict[str, Any]:
    """JSON-ready counter state for the composer: weighted_length, limit, remaining, valid."""
    length = weighted_length(text, kind)
    limit = limit_for(kind)
    return {
        "kind": kind,
        "weighted_length": length,
        "limit": limit,
        "remaining": limit - length,
        "valid": is_valid(text, kind),
    }
