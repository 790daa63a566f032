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
    classes: tuple[str, ...]
    bias: tuple[float, ...]
    rows: dict[int, tuple[float, ...]]
    threshold: float  # binary heads: probability of True at or above it; unused for multi-class

    def scores(self, text_idx: Sequence[int], signal_idx: Sequence[int], scale: float) -> list[float]:
        rows = self.rows
        out = list(self.bias)
        t = [r for i in text_idx if (r := rows.get(i)) is not None]
        if t:
            for k, s in enumerate(map(sum, zip(*t, strict=True))):
                out[k] += s * scale
        s_rows = [r for i in signal_idx if (r := rows.get(i)) is not None]
        if s_rows:
            for k, s in enumerate(map(sum, zip(*s_rows, strict=True))):
                out[k] += s
        return out

    def predict(self, text_idx: Sequence[int], signal_idx: Sequence[int], scale: float) -> str:
        sc = self.scores(text_idx, signal_idx, scale)
        if len(self.classes) == 2:  # one logit: the second class's
            p = 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, sc[0]))))
            return self.classes[1] if p >= self.threshold else self.classes[0]
        return self.classes[max(range(len(sc)), key=sc.__getitem__)]


@dataclass(frozen=True, slots=True)
class TriageModel:
    vocab: dict[str, int]
    heads: dict[str, Head]
    about: str

    def index(self, feats: Iterable[str]) -> list[int]:
        v = self.vocab
        return [i for f in feats if (i := v.get(f)) is not None]

    def predict(
        self, text_feats: Sequence[str], signals: Sequence[str], head: str, extra: Sequence[str] = ()
    ) -> str:
        ti = self.index(text_feats)
        si = self.index([*signals, *extra])
        scale = 1.0 / math.sqrt(len(ti)) if ti else 0.0
        return self.heads[head].predict(ti, si, scale)


def parse(doc: dict[str, object]) -> TriageModel:
    vocab_list = doc["vocab"]
    assert isinstance(vocab_list, list)
    vocab = {str(f): i for i, f in enumerate(vocab_list)}
    heads = {}
    raw_heads = doc["heads"]
    assert isinstance(raw_heads, dict)
    for name, h in raw_heads.items():
        rows = {int(i): tuple(float(x) for x in r) for i, r in h["rows"].items()}
        heads[name] = Head(
            classes=tuple(h["classes"]),
            bias=tuple(float(b) for b in h["bias"]),
            rows=rows,
            threshold=float(h.get("threshold", 0.5)),
        )
    return TriageModel(vocab, heads, str(doc.get("_about", "")))


@lru_cache(maxsize=1)
def load_model() -> TriageModel:
    path = resources.files("flockdesk.triage").joinpath(MODEL_FILE)
    return parse(json.loads(path.read_text("utf-8")))
