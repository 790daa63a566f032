"""The triage model: linear classifiers over word and character n-grams plus the rule signals.

Built by `scripts/build_triage_model.py` from the project's own corpus (`corpus/`, train split; val
chooses the settings) and shipped as `triage/data/triage_model.json`; nothing is downloaded. Scoring is
pure Python: the known features of a message are looked up once, and each head (intent, sentiment,
move_to_dm, urgent) sums its weight rows for them. Intent and sentiment are predicted jointly:
sentiment reads the predicted intent as a feature, as do move_to_dm and urgent.

Text features (words, word bigrams, character 4-grams inside words) are scaled by 1/sqrt(n) so that
long messages do not outweigh short ones; signal features (the rules' findings, the language, the
channel, the predicted intent) count 1 each.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

MODEL_FILE = "data/triage_model.json"
HEADS = ("intent", "sentiment", "move_to_dm", "urgent")

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?|\d+|[?!]|[^\w\s]", re.UNICODE)
_DIGITS = re.compile(r"\d")


def text_features(text: str) -> list[str]:
    """Lowercase words (digits folded to 0), word bigrams, and character 4-grams of each word."""
    low = _DIGITS.sub("0", text.lower())
    toks = _WORD.findall(low)
    feats = set(toks)
    feats.update([f"{a} {b}" for a, b in zip(toks, toks[1:], strict=False)])
    for t in toks:
        if len(t) > 3:
            w = f"<{t}>"
            feats.update([w[i : i + 4] for i in range(len(w) - 3)])
    return sorted(feats)


@dataclass(frozen=True, slots=True)
class Head:
    name: str
    classes: tuple[str, ...]
    offset: int  # where its logits start in the joint score vector
    size: int  # number of logits: one per class, or one for a binary head
    threshold: float  # binary heads: probability of True at or above it; unused for multi-class

    def decide(self, scores: Sequence[float]) -> str:
        if self.size == 1:  # the logit of the second class ("true")
            z = max(-60.0, min(60.0, scores[self.offset]))
            return self.classes[1] if 1.0 / (1.0 + math.exp(-z)) >= self.threshold else self.classes[0]
        part = scores[self.offset : self.offset + self.size]
        return self.classes[max(range(self.size), key=part.__getitem__)]


@dataclass(frozen=True, slots=True)
class TriageModel:
    """Every head's weights side by side: one dict lookup per feature gives the row for all heads."""

    heads: dict[str, Head]
    bias: tuple[float, ...]
    rows: dict[str, tuple[float, ...]]
    about: str

    def scores(self, text_feats: Iterable[str], signals: Iterable[str]) -> list[float]:
        rows = self.rows
        out = list(self.bias)
        t = [r for f in text_feats if (r := rows.get(f)) is not None]
        if t:
            scale = 1.0 / math.sqrt(len(t))
            for k, v in enumerate(map(sum, zip(*t, strict=True))):
                out[k] += v * scale
        s = [r for f in signals if (r := rows.get(f)) is not None]
        if s:
            for k, v in enumerate(map(sum, zip(*s, strict=True))):
                out[k] += v
        return out

    def add(self, scores: list[float], feature: str) -> None:
        row = self.rows.get(feature)
        if row is not None:
            for k, v in enumerate(row):
                scores[k] += v

    def decide(self, scores: Sequence[float], head: str) -> str:
        return self.heads[head].decide(scores)


def parse(doc: dict[str, Any]) -> TriageModel:
    """The shipped document -> the model (heads in HEADS order, rows joined per feature)."""
    heads: dict[str, Head] = {}
    offset = 0
    for name in HEADS:
        h = doc["heads"][name]
        classes = tuple(str(c) for c in h["classes"])
        size = 1 if len(classes) == 2 else len(classes)
        heads[name] = Head(name, classes, offset, size, float(h.get("threshold", 0.5)))
        offset += size
    bias: list[float] = []
    for name in HEADS:
        bias += [float(b) for b in doc["heads"][name]["bias"]]
    width = offset
    joined: dict[str, list[float]] = {}
    for name in HEADS:
        head = heads[name]
        for feat, row in doc["heads"][name]["rows"].items():
            acc = joined.setdefault(feat, [0.0] * width)
            acc[head.offset : head.offset + head.size] = [float(x) for x in row]
    return TriageModel(
        heads, tuple(bias), {f: tuple(r) for f, r in joined.items()}, str(doc.get("_about", ""))
    )


@lru_cache(maxsize=1)
def load_model() -> TriageModel:
    path = resources.files("flockdesk.triage").joinpath(MODEL_FILE)
    return parse(json.loads(path.read_text("utf-8")))
