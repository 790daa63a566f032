"""Pure safety rules for outbound messages (invariants 1 and 5 of ARCHITECTURE.md).

- A DM conversation is answered by a DM, a public one by a reply post; never the other way.
- Text length: 280 weighted for posts, 10,000 characters for DMs.
- Text from a DM (either side) is never posted publicly: a public text may not contain a DM's
  whole text once that DM has MIN_DM_WORDS words or more, nor any run of WINDOW_WORDS consecutive
  words of a longer DM (comparison ignores case, punctuation and spacing).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from flockdesk.domain.text import limit_for, weighted_length
from flockdesk.domain.vocabulary import PUBLIC_OUTBOX_KINDS, OutboxKind

MIN_DM_WORDS = 4
WINDOW_WORDS = 8
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Violation:
    reason: str  # stable code: wrong_channel | too_long | empty | dm_text_in_public
    message: str


def outbox_kind_for(conversation_kind: str) -> OutboxKind:
    """The only outbox kind that may answer a conversation of this kind."""
    if conversation_kind == "dm":
        return "dm"
    if conversation_kind == "public":
        return "reply"
    raise ValueError(f"unknown conversation kind {conversation_kind!r}")


def channel_violation(conversation_kind: str, outbox_kind: str) -> Violation | None:
    allowed: tuple[str, ...] = {"dm": ("dm",), "public": PUBLIC_OUTBOX_KINDS}.get(conversation_kind, ())
    if outbox_kind in allowed:
        return None
    if conversation_kind == "dm":
        return Violation("wrong_channel", "a Direct Message is answered by DM only, never in public")
    return Violation(
        "wrong_channel", "a public post is answered in public; use 'move to DM' to continue privately"
    )


def length_violation(text: str, outbox_kind: str) -> Violation | None:
    if not text.strip():
        return Violation("empty", "the message is empty; write a reply first")
    kind = "dm" if outbox_kind == "dm" else "post"
    length, limit = weighted_length(text, kind), limit_for(kind)
    if length > limit:
        what = "DMs" if kind == "dm" else "posts (URLs count 23, emoji and CJK 2)"
        return Violation(
            "too_long", f"the message is {length} long; {what} allow {limit}; shorten it by {length - limit}"
        )
    return None


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def _windows(ws: list[str], n: int) -> set[tuple[str, ...]]:
    """Every run of n consecutive words."""
    return {tuple(ws[i : i + n]) for i in range(len(ws) - n + 1)}


def dm_leak(public_text: str, dm_texts: Iterable[str]) -> Violation | None:
    """A violation when the public text repeats (part of) a DM."""
    public = words(public_text)
    if not public:
        return None
    joined = " " + " ".join(public) + " "
    public_runs = _windows(public, WINDOW_WORDS)  # one set lookup per DM window, not a scan
    for dm in dm_texts:
        dm_words = words(dm)
        if len(dm_words) < MIN_DM_WORDS:
            continue
        if " " + " ".join(dm_words) + " " in joined:
            return Violation(
                "dm_text_in_public", "this public reply repeats a private DM; keep private details in DM"
            )
        if (
            len(dm_words) > WINDOW_WORDS
            and public_runs
            and not public_runs.isdisjoint(_windows(dm_words, WINDOW_WORDS))
        ):
            return Violation(
                "dm_text_in_public", "this public reply repeats part of a private DM; keep it in DM"
            )
    return None
