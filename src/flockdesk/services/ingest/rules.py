"""Pure rules of the ingest write path: triage labels as message columns, and how an echo of the
organisation's own post or DM is recognised as an outbox row. How a conversation's state moves when
messages arrive is domain/conversation_state.py.

No I/O here; services/ingest/ingestor.py feeds these with rows it read in bulk.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flockdesk.connectors.base import HandleRules
from flockdesk.domain.types import InboundItem
from flockdesk.domain.vocabulary import LABEL_KEYS, PUBLIC_OUTBOX_KINDS

NO_LABELS: dict[str, Any] = dict.fromkeys(LABEL_KEYS)


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
    return out


def same_text(sent: str, echoed: str, handles: HandleRules) -> bool:
    """An echo's text matches what was sent (a platform may prepend @mentions to replies)."""
    if sent == echoed:
        return True
    return handles.strip_leading_mentions(sent).strip() == handles.strip_leading_mentions(echoed).strip()


def match_sending(
    item: InboundItem, candidates: Sequence[Mapping[Any, Any]], used: set[int], handles: HandleRules
) -> Mapping[Any, Any] | None:
    """The outbox row in status 'sending' that this echo is, by kind, text and target."""
    for row in candidates:
        if row["id"] in used:
            continue
        if item.thread_kind == "dm":
            if row["kind"] != "dm" or (
                item.recipient_id and row["recipient_external_id"] != item.recipient_id
            ):
                continue
        else:
            if row["kind"] not in PUBLIC_OUTBOX_KINDS:
                continue
            if row["in_reply_to_external_id"] != item.in_reply_to_external_id:
                continue
        if same_text(row["text"], item.text, handles):
            return row
    return None
