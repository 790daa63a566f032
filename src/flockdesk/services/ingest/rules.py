"""Pure rules of the ingest write path: triage labels as message columns, the kind of a post by its
content, and how an echo of the organisation's own post or DM is recognised as an outbox row. How a
conversation's state moves when messages arrive is domain/conversation_state.py.

Kinds by content: a post that tags the account (in its mentions, its text, or as the user it
answers) is a mention, whichever source found it first; one that quotes the account's own post is a
quote; a listening (search) hit stays a listening hit only when it does neither. So the message and
its conversation get the mention's channel, and its SLA, even when the search poll saw it first.

No I/O here; services/ingest/ingestor.py feeds these with rows it read in bulk.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from flockdesk.connectors.base import HandleRules
from flockdesk.domain.types import InboundItem
from flockdesk.domain.vocabulary import LABEL_KEYS, PUBLIC_OUTBOX_KINDS

NO_LABELS: dict[str, Any] = {**dict.fromkeys(LABEL_KEYS), "lang": None}
MAX_LANG_LEN = 8  # messages.lang: an ISO 639-1 code or "und"


def labels_to_columns(labels: Mapping[str, Any] | None) -> dict[str, Any]:
    """Triage label dict -> message columns (unknown keys ignored, missing or unusable ones NULL)."""
    if not labels:
        return NO_LABELS
    out = dict(NO_LABELS)
    for key in LABEL_KEYS:
        if key in labels:
            out[key] = labels[key]
    sensitive = out["sensitive"]
    if sensitive is not None and not isinstance(sensitive, list):
        out["sensitive"] = sorted(sensitive) if isinstance(sensitive, set | frozenset | tuple) else None
    for flag in ("move_to_dm", "urgent", "influencer"):
        if out[flag] is not None:
            out[flag] = bool(out[flag])
    for text in ("intent", "sentiment"):
        if out[text] is not None and not isinstance(out[text], str):
            out[text] = None
    try:
        out["priority"] = None if out["priority"] is None else min(1.0, max(0.0, float(out["priority"])))
    except (TypeError, ValueError):
        out["priority"] = None
    lang = labels.get("lang")
    out["lang"] = lang.lower() if isinstance(lang, str) and 0 < len(lang) <= MAX_LANG_LEN else None
    return out


@dataclasses.dataclass(frozen=True, slots=True)
class Summons:
    """How a customer's public post involves the account."""

    mentions: bool  # it tags the account, or answers one of its posts
    quotes: bool  # it quotes one of the account's posts

    @property
    def summoned(self) -> bool:
        return self.mentions or self.quotes


def _handle_in_text(text: str, handle: str) -> bool:
    return re.search(rf"(?<![\w@])@{re.escape(handle)}(?!\w)", text, re.IGNORECASE) is not None


def summons(item: InboundItem, org_id: str, org_handle: str, own_posts: Collection[str]) -> Summons:
    """Whether a post summoned the account (X's word: mentioned it or quoted it). `own_posts`: the
    account's post ids among those the batch quotes. The mentions source's own word counts: a post
    it returned tags the account even when the page left the entities out."""
    handle = org_handle.lower().lstrip("@")
    mentions = (
        item.channel == "mention"
        or org_id in item.mentioned_ids
        or bool(handle)
        and (handle in item.mentioned_handles or _handle_in_text(item.text, handle))
        or item.in_reply_to_user_id == org_id
    )
    quotes = item.quoted_post_id is not None and (
        item.quoted_author_id == org_id or item.quoted_post_id in own_posts
    )
    return Summons(bool(mentions), quotes)


def by_content(item: InboundItem, found: Summons) -> InboundItem:
    """The item with the kind and channel its content gives it (a reply stays a reply)."""
    if item.thread_kind == "dm" or not found.summoned:
        return item
    kind = item.kind if item.kind == "reply" else ("quote" if found.quotes else "mention")
    if kind == item.kind and item.channel == "mention":
        return item
    return dataclasses.replace(item, kind=kind, channel="mention")


def same_text(sent: str, echoed: str, handles: HandleRules) -> bool:
    """An echo's text matches what was sent (a platform may prepend @mentions to replies)."""
    if sent == echoed:
        return True
    return handles.strip_leading_mentions(sent).strip() == handles.strip_leading_mentions(echoed).strip()


def match_sending(
    item: InboundItem, candidates: Sequence[Mapping[Any, Any]], used: set[int], handles: HandleRules
) -> Mapping[Any, Any] | None:
    """The outbox row in status 'sending' (or a native reply a person posts on the platform) that this
    echo is, by kind, text and target."""
    for row in candidates:
        if row["id"] in used:
            continue
        if item.thread_kind == "dm":
            if row["kind"] != "dm" or (
                item.recipient_id and row["recipient_external_id"] != item.recipient_id
            ):
                continue
        else:
            if row["kind"] not in PUBLIC_OUTBOX_KINDS and row["kind"] != "native_reply":
                continue
            if row["in_reply_to_external_id"] != item.in_reply_to_external_id:
                continue
        if same_text(row["text"], item.text, handles):
            return row
    return None
