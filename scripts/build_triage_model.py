"""Rebuild src/flockdesk/triage/data/sentiment_ngrams.json from vader-tweets-groundtruth (MIT).

    uv run python scripts/build_triage_model.py [--data ../shared/data] [--check]

Ridge regression (squared loss + L2) of each tweet's mean human rating / 4 on binary unigram + bigram
features (flockdesk.triage.ngram.features), l2-normalised per tweet, fitted by deterministic SGD (fixed
seed and epoch count: the same data gives the same file). Only vader-tweets-groundtruth is read: the
evaluation-only sets (TweetEval, complaints, US airline, TWCS) are never used here. --check rebuilds in
memory and exits 1 if the shipped file differs.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
from pathlib import Path

from flockdesk.triage.ngram import features

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "flockdesk" / "triage" / "data" / "sentiment_ngrams.json"
SOURCE = "vader-tweets-groundtruth/tweets_GroundTruth.txt"
ALPHA = 3e-3  # L2 strength per update
EPOCHS = 25
SEED = 20261121
MIN_COUNT = 2  # features seen in fewer tweets are dropped (noise, and a smaller file)
PRUNE = 0.002  # weights smaller than this are not shipped


def load(data_dir: Path) -> list[tuple[str, float]]:
    path = data_dir / SOURCE
    if not path.exists():
        raise SystemExit(f"{path} not found: pass --data DIR (the folder holding vader-tweets-groundtruth/)")
    rows = []
    for line in path.read_text("utf-8", errors="replace").splitlines():
        parts = line.split("\t", 2)
        if len(parts) == 3 and parts[2].strip():
            rows.append((parts[2], max(-1.0, min(1.0, float(parts[1]) / 4))))
    return rows


def train(rows: list[tuple[str, float]]) -> tuple[float, dict[str, float]]:
    feats = [features(t) for t, _ in rows]
    counts: dict[str, int] = {}
    for fs in feats:
        for f in fs:
            counts[f] = counts.get(f, 0) + 1
    keep = [
        (sorted(f for f in fs if counts[f] >= MIN_COUNT), y, len(fs))
        for fs, (_, y) in zip(feats, rows, strict=True)
    ]
    bias = sum(y for _, y in rows) / len(rows)
    weights: dict[str, float] = {}
    order = list(range(len(keep)))
    rng = random.Random(SEED)
    for epoch in range(EPOCHS):
        rng.shuffle(order)
        lr = 0.5 / (1 + epoch)
        for i in order:
            kept, y, n = keep[i]
            scale = 1 / math.sqrt(n) if n else 0.0  # n counts every feature, as ngram.predict does
            err = bias + scale * sum(weights.get(f, 0.0) for f in kept) - y
            bias -= lr * 0.1 * err
            for f in kept:
                w = weights.get(f, 0.0)
                weights[f] = w - lr * (err * scale + ALPHA * w)
    return round(bias, 5), {f: round(w, 4) for f, w in sorted(weights.items()) if abs(w) >= PRUNE}


def render(bias: float, weights: dict[str, float]) -> str:
    doc = {
        "_about": "Built by scripts/build_triage_model.py from vader-tweets-groundtruth (MIT, C.J. Hutto, "
        "ICWSM 2014) only. Ridge regression of rating/4 on binary unigram+bigram features, "
        "l2-normalised per message; see flockdesk/triage/ngram.py.",
        "bias": bias,
        "weights": weights,
    }
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(os.environ.get("FLOCKDESK_DATA_DIR_SHARED", ROOT.parent / "shared" / "data"))
    ap.add_argument("--data", type=Path, default=default)
    ap.add_argument("--check", action="store_true", help="exit 1 if the shipped file is not what this builds")
    args = ap.parse_args(argv)
    text = render(*train(load(args.data)))
    if args.check:
        same = OUT.exists() and OUT.read_text("utf-8") == text
        print("up to date" if same else f"{OUT} differs from a fresh build")
        return 0 if same else 1
    OUT.write_text(text, "utf-8")
    print(f"wrote {OUT} ({len(text) // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
