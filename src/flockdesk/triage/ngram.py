"""A small linear model over word unigrams and bigrams that corrects the lexicon's sentiment score.

Trained by `scripts/build_triage_model.py` on vader-tweets-groundtruth (MIT, Hutto & Gilbert 2014) only:
ridge regression of the human mean rating (-4..+4, scaled to -1..1) on binary n-gram features,
l2-normalised per message. The weights ship in `triage/data/sentiment_ngrams.json`; nothing is downloaded.
Pure Python: a dict lookup per n-gram, so it keeps triage far above 5,000 messages per CPU-second.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources

MODEL_FILE = "data/sentiment_ngrams.json"
_TOKEN = re.compile(r"[#@]?\w+|[^\w\s]")


def features(text: str) -> set[str]:
    """The model's features: lowercase tokens (words, #tags, @names, single punctuation) and bigrams."""
    toks = _TOKEN.findall(text.lower())
    feats = set(toks)
    feats.update(f"{a} {b}" for a, b in zip(toks, toks[1:], strict=False))
    return feats


@lru_cache(maxsize=1)
def _model() -> tuple[float, dict[str, float]]:
    path = resources.files("flockdesk.triage").joinpath(MODEL_FILE)
    data = json.loads(path.read_text("utf-8"))
    return float(data["bias"]), {k: float(v) for k, v in data["weights"].items()}


def predict(feats: Iterable[str], bias: float, weights: dict[str, float]) -> float:
    """Ridge prediction for a feature set: bias + sum of weights / sqrt(number of features)."""
    total = 0.0
    n = 0
    for f in feats:
        n += 1
        w = weights.get(f)
        if w is not None:
            total += w
    return bias + (total / math.sqrt(n) if n else 0.0)


def ngram_score(text: str) -> float:
    """The model's rating for `text`, about -1 (very negative) .. +1 (very positive)."""
    bias, weights = _model()
    return predict(features(text), bias, weights)
