"""The project's labelled triage corpus (`corpus/` in the repository): loading, splits and scores.

Used by `scripts/build_triage_model.py` (train on the train split, choose on val) and by
`bench/triage_eval.py` (report the test split). The corpus is not shipped in the wheel; callers pass
its folder.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flockdesk.domain.vocabulary import INTENTS, SENTIMENTS
from flockdesk.triage.pii.finding import KINDS

__all__ = ["INTENTS", "SENTIMENTS", "Message", "ReplyDraft", "load_messages", "load_replies", "split_of"]

SPLITS = ("train", "val", "test")
# The targets for the held-out set; the corpus test split is the project's proxy for it.
TARGETS = {
    "intent_macro_f1": 0.70,
    "sentiment_macro_recall": 0.65,
    "move_to_dm_f1": 0.80,
    "urgent_f1": 0.65,
    "sensitive_recall": 0.95,
    "sensitive_precision": 0.90,
    "reply_guard_f1": 0.90,
}


def split_of(item_id: str) -> str:
    """The corpus README's rule: sha1 of the id mod 10 -> 0-6 train, 7 val, 8-9 test."""
    bucket = int(hashlib.sha1(item_id.encode("utf-8")).hexdigest(), 16) % 10  # noqa: S324 - not security
    return "train" if bucket <= 6 else ("val" if bucket == 7 else "test")


@dataclass(frozen=True, slots=True)
class Message:
    id: str
    org: str
    lang: str
    channel: str
    text: str
    author: dict[str, Any]
    intent: str
    sentiment: str
    sensitive: tuple[str, ...]
    move_to_dm: bool
    urgent: bool
    influencer: bool
    tags: tuple[str, ...] = ()

    @property
    def split(self) -> str:
        return split_of(self.id)

    def triage_author(self) -> dict[str, Any]:
        """The author in the shape triage_message reads."""
        a = self.author
        return {
            "followers_count": a.get("followers", 0),
            "verified": bool(a.get("verified")),
            "description": a.get("bio") or "",
        }


@dataclass(frozen=True, slots=True)
class ReplyDraft:
    id: str
    org: str
    lang: str
    text: str
    asks_for_sensitive: bool
    contains_sensitive: bool
    tags: tuple[str, ...] = ()

    @property
    def split(self) -> str:
        return split_of(self.id)

    @property
    def flagged(self) -> bool:
        return self.asks_for_sensitive or self.contains_sensitive


def _jsonl(folder: Path) -> Iterable[dict[str, Any]]:
    for path in sorted(folder.glob("*.jsonl")):
        for lineno, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{lineno}: not valid JSON ({exc.msg}); fix the line") from None
            if not isinstance(obj, dict):
                raise ValueError(f"{path}:{lineno}: expected a JSON object")
            yield obj


def load_messages(root: Path) -> list[Message]:
    """Every labelled message under `root/messages/*.jsonl`, sorted by id."""
    out = [
        Message(
            id=o["id"],
            org=o.get("org", ""),
            lang=o.get("lang", "und"),
            channel=o.get("channel", "public"),
            text=o["text"],
            author=dict(o.get("author") or {}),
            intent=o["intent"],
            sentiment=o["sentiment"],
            sensitive=tuple(o.get("sensitive") or ()),
            move_to_dm=bool(o.get("move_to_dm")),
            urgent=bool(o.get("urgent")),
            influencer=bool(o.get("influencer")),
            tags=tuple(o.get("tags") or ()),
        )
        for o in _jsonl(root / "messages")
    ]
    return sorted(out, key=lambda m: m.id)


def load_replies(root: Path) -> list[ReplyDraft]:
    """Every labelled reply draft under `root/replies/*.jsonl`, sorted by id."""
    out = [
        ReplyDraft(
            id=o["id"],
            org=o.get("org", ""),
            lang=o.get("lang", "und"),
            text=o["text"],
            asks_for_sensitive=bool(o.get("asks_for_sensitive")),
            contains_sensitive=bool(o.get("contains_sensitive")),
            tags=tuple(o.get("tags") or ()),
        )
        for o in _jsonl(root / "replies")
    ]
    return sorted(out, key=lambda r: r.id)


def load_orgs(root: Path) -> dict[str, dict[str, Any]]:
    path = root / "orgs.json"
    return dict(json.loads(path.read_text("utf-8"))) if path.exists() else {}


def org_contacts(org: Mapping[str, Any] | None) -> list[str]:
    """An organisation's own public contact details (emails, phones, address, charity number)."""
    if not org:
        return []
    out = [str(x) for x in (org.get("emails") or [])] + [str(x) for x in (org.get("phones") or [])]
    out += [str(org[k]) for k in ("address", "charity_number") if org.get(k)]
    return out


# --- scores ----------------------------------------------------------------------------------------


def prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4), "tp": tp, "fp": fp, "fn": fn}


def binary_f1(pred: Sequence[bool], gold: Sequence[bool]) -> dict[str, float]:
    tp = sum(p and g for p, g in zip(pred, gold, strict=True))
    fp = sum(p and not g for p, g in zip(pred, gold, strict=True))
    fn = sum(g and not p for p, g in zip(pred, gold, strict=True))
    return prf(tp, fp, fn)


def macro_f1(
    pred: Sequence[str], gold: Sequence[str], labels: Sequence[str]
) -> tuple[float, dict[str, float]]:
    per = {}
    for c in labels:
        per[c] = binary_f1([p == c for p in pred], [g == c for g in gold])["f1"]
    present = [c for c in labels if c in gold]
    return round(sum(per[c] for c in present) / max(1, len(present)), 4), per


def macro_recall(
    pred: Sequence[str], gold: Sequence[str], labels: Sequence[str]
) -> tuple[float, dict[str, float]]:
    per = {}
    for c in labels:
        idx = [i for i, g in enumerate(gold) if g == c]
        per[c] = round(sum(pred[i] == c for i in idx) / len(idx), 4) if idx else 0.0
    present = [c for c in labels if c in gold]
    return round(sum(per[c] for c in present) / max(1, len(present)), 4), per


@dataclass(slots=True)
class Scores:
    """Figures for one split, comparable with the issue's targets."""

    n: int
    figures: dict[str, float] = field(default_factory=dict)
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        met = {k: self.figures[k] >= t for k, t in TARGETS.items() if k in self.figures}
        return {"n": self.n, **self.figures, "targets": TARGETS, "met": met, "detail": self.detail}


def score_messages(messages: Sequence[Message], predict: Callable[[Message], Mapping[str, Any]]) -> Scores:
    """Score predictions (dicts with TriageResult.to_dict keys) against the labels."""
    preds = [predict(m) for m in messages]
    intent, intent_per = macro_f1([p["intent"] for p in preds], [m.intent for m in messages], INTENTS)
    senti, senti_per = macro_recall(
        [p["sentiment"] for p in preds], [m.sentiment for m in messages], SENTIMENTS
    )
    dm = binary_f1([bool(p["move_to_dm"]) for p in preds], [m.move_to_dm for m in messages])
    urgent = binary_f1([bool(p["urgent"]) for p in preds], [m.urgent for m in messages])
    tp = fp = fn = 0
    per_kind: dict[str, list[int]] = {k: [0, 0, 0] for k in KINDS}
    for p, m in zip(preds, messages, strict=True):
        got, want = set(p["sensitive"]), set(m.sensitive)
        for k in got | want:
            row = per_kind.setdefault(k, [0, 0, 0])
            if k in got and k in want:
                tp += 1
                row[0] += 1
            elif k in got:
                fp += 1
                row[1] += 1
            else:
                fn += 1
                row[2] += 1
    sens = prf(tp, fp, fn)
    lang_detail = {}
    if preds and "lang" in preds[0]:
        lang_detail = {
            "lang_accuracy": round(
                sum(p["lang"] == m.lang for p, m in zip(preds, messages, strict=True)) / len(messages), 4
            )
        }
    return Scores(
        n=len(messages),
        figures={
            "intent_macro_f1": intent,
            "sentiment_macro_recall": senti,
            "move_to_dm_f1": dm["f1"],
            "urgent_f1": urgent["f1"],
            "sensitive_recall": sens["recall"],
            "sensitive_precision": sens["precision"],
        },
        detail={
            "intent_f1": intent_per,
            "sentiment_recall": senti_per,
            "move_to_dm": dm,
            "urgent": urgent,
            "sensitive": sens,
            "sensitive_per_kind": {k: prf(*v) for k, v in per_kind.items()},
            **lang_detail,
        },
    )


def score_replies(replies: Sequence[ReplyDraft], flagged: Callable[[ReplyDraft], bool]) -> dict[str, Any]:
    res = binary_f1([flagged(r) for r in replies], [r.flagged for r in replies])
    return {"n": len(replies), "reply_guard_f1": res["f1"], "detail": res}
