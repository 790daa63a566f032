"""Build src/flockdesk/triage/data/triage_model.json from the project's own corpus (corpus/).

    uv run --group model python scripts/build_triage_model.py [--corpus corpus] [--check] [--report]

Trains on the corpus's train split only; the val split chooses the regularisation of each head (the
binary heads' settings are chosen on val pooled with out-of-fold train predictions); the test split is
never read here. Every file under corpus/messages is
used, so new corpus files are picked up by a rebuild. No other data is used: the public tweet sets are
evaluation-only, and nothing else is needed.

Heads (scikit-learn logistic regression, lbfgs, L2; deterministic for the same data):
  intent      8 classes, text features + rule signals
  sentiment   3 classes, the same + the predicted intent (out-of-fold on train, so it is honest)
  move_to_dm  binary, public messages only, the same + the predicted intent; C and threshold chosen on
              out-of-fold train predictions pooled with val, through the gate triage applies
  urgent      binary, the same + the predicted intent; chosen the same way
--check rebuilds in memory and exits 1 if the shipped file differs; --report prints val figures.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression

from flockdesk.triage.core import author_info, move_gate, rule_signals, rule_urgent
from flockdesk.triage.corpus import (
    INTENTS,
    SENTIMENTS,
    Message,
    binary_f1,
    load_messages,
    macro_f1,
    macro_recall,
)

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "flockdesk" / "triage" / "data" / "triage_model.json"
MIN_COUNT = 2  # text features seen in fewer training messages are dropped
C_GRID = (4.0, 16.0, 64.0, 256.0)
THRESHOLDS = tuple(round(0.2 + 0.05 * i, 2) for i in range(13))  # 0.20 .. 0.80
FOLDS = 5
DIGITS = 4


class Featurised:
    def __init__(self, messages: Sequence[Message]) -> None:
        self.messages = list(messages)
        self.text: list[list[str]] = []
        self.signals: list[list[str]] = []
        for m in self.messages:
            info = author_info(m.triage_author())
            sig = rule_signals(m.text, channel="dm" if m.channel == "dm" else "mention", info=info)
            self.text.append(sig.text_features)
            self.signals.append(sig.features)


def fold_of(item_id: str) -> int:
    return int(hashlib.sha1(f"fold:{item_id}".encode()).hexdigest(), 16) % FOLDS  # noqa: S324


def matrix(
    data: Featurised, rows: Sequence[int], vocab: dict[str, int], extra: Sequence[list[str]]
) -> csr_matrix:
    indptr = [0]
    indices: list[int] = []
    values: list[float] = []
    for k, i in enumerate(rows):
        ti = sorted({vocab[f] for f in data.text[i] if f in vocab})
        si = sorted({vocab[f] for f in [*data.signals[i], *extra[k]] if f in vocab} - set(ti))
        scale = 1.0 / np.sqrt(len(ti)) if ti else 0.0
        indices += ti + si
        values += [scale] * len(ti) + [1.0] * len(si)
        indptr.append(len(indices))
    return csr_matrix((values, indices, indptr), shape=(len(rows), len(vocab)), dtype=np.float64)


def fit(x: csr_matrix, y: Sequence[str], c: float) -> LogisticRegression:
    clf = LogisticRegression(C=c, max_iter=2000, tol=1e-5)
    clf.fit(x, np.asarray(y))
    return clf


def predict_labels(clf: LogisticRegression, x: csr_matrix, threshold: float | None = None) -> list[str]:
    if threshold is None:
        return [str(v) for v in clf.predict(x)]
    p = clf.predict_proba(x)[:, list(clf.classes_).index("true")]
    return ["true" if v >= threshold else "false" for v in p]


def build(messages: Sequence[Message], report: bool = False) -> dict[str, Any]:
    train = [m for m in messages if m.split == "train"]
    val = [m for m in messages if m.split == "val"]
    tr, va = Featurised(train), Featurised(val)
    counts: Counter[str] = Counter(f for fs in tr.text for f in set(fs))
    names = sorted(f for f, n in counts.items() if n >= MIN_COUNT)
    signals = sorted({f for fs in tr.signals for f in fs} | {f"§intent={i}" for i in INTENTS})
    vocab = {f: i for i, f in enumerate(sorted(set(names) | set(signals)))}
    all_tr, all_va = list(range(len(train))), list(range(len(val)))
    none_tr: list[list[str]] = [[] for _ in train]
    none_va: list[list[str]] = [[] for _ in val]
    figures: dict[str, Any] = {}

    def choose(
        rows_tr: list[int],
        y_tr: list[str],
        rows_va: list[int],
        y_va: list[str],
        ex_tr: Sequence[list[str]],
        ex_va: Sequence[list[str]],
        score: Any,
        binary: bool,
    ) -> tuple[float, float | None, float]:
        x_tr = matrix(tr, rows_tr, vocab, ex_tr)
        x_va = matrix(va, rows_va, vocab, ex_va)
        best: tuple[float, float, float | None] = (-1.0, 1.0, None)
        for c in C_GRID:
            clf = fit(x_tr, y_tr, c)
            for th in THRESHOLDS if binary else (None,):
                s = float(score(predict_labels(clf, x_va, th), y_va))
                if s > best[0] + 1e-9:
                    best = (s, c, th)
        return best[1], best[2], best[0]

    # intent
    y_int = [m.intent for m in train]
    c_int, _, s_int = choose(
        all_tr,
        y_int,
        all_va,
        [m.intent for m in val],
        none_tr,
        none_va,
        lambda p, g: macro_f1(p, g, INTENTS)[0],
        False,
    )
    x_tr = matrix(tr, all_tr, vocab, none_tr)
    intent_clf = fit(x_tr, y_int, c_int)
    figures["intent_macro_f1_val"] = s_int
    # out-of-fold intent on train, the model's intent on val: what the joint heads will see at run time
    oof = [""] * len(train)
    for k in range(FOLDS):
        fit_rows = [i for i, m in enumerate(train) if fold_of(m.id) != k]
        hold = [i for i, m in enumerate(train) if fold_of(m.id) == k]
        clf = fit(matrix(tr, fit_rows, vocab, [[] for _ in fit_rows]), [y_int[i] for i in fit_rows], c_int)
        for i, p in zip(hold, predict_labels(clf, matrix(tr, hold, vocab, [[] for _ in hold])), strict=True):
            oof[i] = p
    va_int = predict_labels(intent_clf, matrix(va, all_va, vocab, none_va))
    ex_tr = [[f"§intent={p}"] for p in oof]
    ex_va = [[f"§intent={p}"] for p in va_int]

    heads: dict[str, Any] = {"intent": (intent_clf, None, c_int)}
    c_s, _, s_s = choose(
        all_tr,
        [m.sentiment for m in train],
        all_va,
        [m.sentiment for m in val],
        ex_tr,
        ex_va,
        lambda p, g: macro_recall(p, g, SENTIMENTS)[0],
        False,
    )
    heads["sentiment"] = (fit(matrix(tr, all_tr, vocab, ex_tr), [m.sentiment for m in train], c_s), None, c_s)
    figures["sentiment_macro_recall_val"] = s_s

    def proba(clf: LogisticRegression, x: csr_matrix) -> list[float]:
        return [float(v) for v in clf.predict_proba(x)[:, list(clf.classes_).index("true")]]

    def choose_binary(
        rows_tr: list[int],
        y_tr: list[str],
        rows_va: list[int],
        y_va: list[str],
        ex_rows_tr: Sequence[list[str]],
        ex_rows_va: Sequence[list[str]],
        decide: Any,
    ) -> tuple[float, float, float]:
        """C and threshold of a binary head, scored as triage decides (`decide(split, row, says)`) on
        out-of-fold predictions for train pooled with val: val alone is a few hundred messages."""
        x_tr = matrix(tr, rows_tr, vocab, ex_rows_tr)
        x_va = matrix(va, rows_va, vocab, ex_rows_va)
        folds = [fold_of(train[i].id) for i in rows_tr]
        gold = [g == "true" for g in [*y_tr, *y_va]]
        best = (-1.0, 1.0, 0.5)
        for c in C_GRID:
            p_va = proba(fit(x_tr, y_tr, c), x_va)
            p_tr = [0.0] * len(rows_tr)
            for k in range(FOLDS):
                fit_at = [j for j, f in enumerate(folds) if f != k]
                hold = [j for j, f in enumerate(folds) if f == k]
                clf = fit(x_tr[fit_at], [y_tr[j] for j in fit_at], c)
                for j, v in zip(hold, proba(clf, x_tr[hold]), strict=True):
                    p_tr[j] = v
            for th in THRESHOLDS:
                got = [decide("train", i, v >= th) for i, v in zip(rows_tr, p_tr, strict=True)]
                got += [decide("val", i, v >= th) for i, v in zip(rows_va, p_va, strict=True)]
                sc = float(binary_f1(got, gold)["f1"])
                if sc > best[0] + 1e-9:
                    best = (sc, c, th)
        return best[1], best[2], best[0]

    def yes(v: bool) -> str:
        return "true" if v else "false"

    intents = {"train": oof, "val": va_int}
    feats = {"train": tr.signals, "val": va.signals}

    def move_decide(split: str, i: int, says: bool) -> bool:
        # the head's answer through the intent and sensitive-data gate, as triage applies it
        return bool(move_gate(intents[split][i], "§sensitive" in feats[split][i], says))

    def urgent_decide(split: str, i: int, says: bool) -> bool:
        # the head OR the rules the label page names outright; spam never
        why = [f.split("=", 1)[1] for f in feats[split][i] if f.startswith("§urgent=")]
        return intents[split][i] != "spam" and (says or rule_urgent(why))

    pub_tr = [i for i, m in enumerate(train) if m.channel != "dm"]
    pub_va = [i for i, m in enumerate(val) if m.channel != "dm"]
    y_dm = [yes(train[i].move_to_dm) for i in pub_tr]
    c_d, th_d, s_d = choose_binary(
        pub_tr,
        y_dm,
        pub_va,
        [yes(val[i].move_to_dm) for i in pub_va],
        [ex_tr[i] for i in pub_tr],
        [ex_va[i] for i in pub_va],
        move_decide,
    )
    heads["move_to_dm"] = (fit(matrix(tr, pub_tr, vocab, [ex_tr[i] for i in pub_tr]), y_dm, c_d), th_d, c_d)
    figures["move_to_dm_f1_train_oof_and_val_public"] = s_d
    y_u = [yes(m.urgent) for m in train]
    c_u, th_u, s_u = choose_binary(
        all_tr, y_u, all_va, [yes(m.urgent) for m in val], ex_tr, ex_va, urgent_decide
    )
    heads["urgent"] = (fit(matrix(tr, all_tr, vocab, ex_tr), y_u, c_u), th_u, c_u)
    figures["urgent_f1_train_oof_and_val"] = s_u
    if report:
        print(json.dumps(figures, indent=1), file=sys.stderr)
    return export(vocab, heads, len(train), len(val))


def export(vocab: dict[str, int], heads: dict[str, Any], n_train: int, n_val: int) -> dict[str, Any]:
    names = sorted(vocab, key=vocab.__getitem__)
    out_heads = {}
    for name, (clf, th, c) in heads.items():
        coef = clf.coef_  # (classes, features), or (1, features) for a binary head
        # every feature keeps its row, even a near-zero one: the 1/sqrt(n) scale counts known features
        rows = {names[j]: [round(float(v), DIGITS) for v in coef[:, j]] for j in range(coef.shape[1])}
        out_heads[name] = {
            "classes": [str(v) for v in clf.classes_],
            "bias": [round(float(v), DIGITS) for v in clf.intercept_],
            "threshold": th if th is not None else 0.5,
            "C": c,
            "rows": rows,
        }
    return {
        "_about": "Built by scripts/build_triage_model.py from the Flockdesk corpus (corpus/, the project's own "
        f"writing, AGPL-3.0-or-later): train split ({n_train} messages), settings chosen on val ({n_val}). "
        "Logistic regression over word, bigram and character 4-gram features plus rule signals; "
        "see flockdesk/triage/model.py.",
        "heads": out_heads,
    }


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    ap.add_argument("--check", action="store_true", help="exit 1 if the shipped file is not what this builds")
    ap.add_argument("--report", action="store_true", help="print the val figures that chose the settings")
    args = ap.parse_args(argv)
    if not (args.corpus / "messages").is_dir():
        raise SystemExit(f"{args.corpus}/messages not found: pass --corpus DIR (the repository's corpus/)")
    text = render(build(load_messages(args.corpus), report=args.report))
    if args.check:
        same = OUT.exists() and OUT.read_text("utf-8") == text
        print("up to date" if same else f"{OUT} differs from a fresh build")
        return 0 if same else 1
    OUT.write_text(text, "utf-8")
    print(f"wrote {OUT} ({len(text) // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
