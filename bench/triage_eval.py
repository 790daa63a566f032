"""Triage benchmark: prints one JSON object with every figure, ours and VADER alone's.

    uv run python bench/triage_eval.py            # all data sets found under ../shared/data
    uv run python bench/triage_eval.py --tune     # also grid-search the rule sentiment thresholds on TweetEval *val*
    uv run python bench/triage_eval.py --only corpus --split val   # the corpus split used for choosing

Data sets are read from FLOCKDESK_DATA_DIR_SHARED or ../shared/data; an absent one is skipped with a note.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from flockdesk.triage import check_reply, find_sensitive, triage_message
from flockdesk.triage import corpus as triage_corpus
from flockdesk.triage.sentiment import (
    NEG_THRESHOLD,
    POS_THRESHOLD,
    label_for,
    sentiment,
    vader_compound,
)

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
DATA = Path(os.environ.get("FLOCKDESK_DATA_DIR_SHARED", ROOT.parent / "shared" / "data"))
# Presidio entity type -> Flockdesk kind (types not listed have no Flockdesk kind and are not scored).
PRESIDIO_MAP = {
    "EMAIL_ADDRESS": "email",
    "PHONE_NUMBER": "phone",
    "CREDIT_CARD": "payment_card",
    "STREET_ADDRESS": "address",
    "ZIP_CODE": "address",
    "IBAN_CODE": "account_number",
    "US_SSN": "government_id",
    "US_DRIVER_LICENSE": "government_id",
}
ASKS_DM = re.compile(r"\b(?:DM|D\.M\.|direct message|private message|message us|PM)\b", re.IGNORECASE)
LABELS = ("negative", "neutral", "positive")


def macro_recall(pred: Sequence[str], gold: Sequence[str]) -> tuple[float, dict[str, float]]:
    per = {}
    for c in LABELS:
        idx = [i for i, g in enumerate(gold) if g == c]
        per[c] = round(sum(pred[i] == c for i in idx) / len(idx), 4) if idx else 0.0
    return round(sum(per.values()) / len(per), 4), per


def prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4), "tp": tp, "fp": fp, "fn": fn}


def _tweeteval(split: str) -> tuple[list[str], list[str]] | None:
    base = DATA / "tweeteval" / "sentiment"
    if not (base / f"{split}_text.txt").exists():
        return None
    texts = (base / f"{split}_text.txt").read_text("utf-8").splitlines()
    labels = [LABELS[int(x)] for x in (base / f"{split}_labels.txt").read_text().split()]
    return texts, labels


def eval_corpus(split: str = "test") -> dict[str, Any]:
    """The project's corpus: per-label figures on one split against the issue's targets."""
    if not (CORPUS / "messages").is_dir():
        return {"skipped": f"{CORPUS} absent"}
    orgs = triage_corpus.load_orgs(CORPUS)
    contacts = {key: triage_corpus.org_contacts(org) for key, org in orgs.items()}
    messages = [m for m in triage_corpus.load_messages(CORPUS) if m.split == split]

    def predict(m: triage_corpus.Message) -> dict[str, Any]:
        channel = "dm" if m.channel == "dm" else "mention"
        res = triage_message(
            m.text, channel=channel, author=m.triage_author(), org_contacts=contacts.get(m.org, [])
        )
        out: dict[str, Any] = res.to_dict()
        return out

    scores: dict[str, Any] = triage_corpus.score_messages(messages, predict).to_dict()
    replies = [r for r in triage_corpus.load_replies(CORPUS) if r.split == split]

    def flagged(r: triage_corpus.ReplyDraft) -> bool:
        check = check_reply(r.text, org_contacts=contacts.get(r.org, []))
        return check.asks_for_sensitive or bool(check.contains_sensitive)

    guard = triage_corpus.score_replies(replies, flagged)
    scores["reply_guard_f1"] = guard["reply_guard_f1"]
    scores["met"]["reply_guard_f1"] = guard["reply_guard_f1"] >= triage_corpus.TARGETS["reply_guard_f1"]
    scores["detail"]["reply_guard"] = guard
    scores["split"] = split
    return scores


def eval_sentiment(tune: bool) -> dict[str, Any]:
    test = _tweeteval("test")
    if test is None:
        return {"skipped": f"{DATA / 'tweeteval'} absent"}
    texts, gold = test
    ours, ours_per = macro_recall([triage_message(t).sentiment for t in texts], gold)
    rules, _ = macro_recall([sentiment(t).label for t in texts], gold)
    vader, vader_per = macro_recall([label_for(vader_compound(t), -0.05, 0.05) for t in texts], gold)
    out: dict[str, Any] = {
        "tweeteval_test_macro_recall": ours,
        "per_class_recall": ours_per,
        "rules_alone_macro_recall": rules,
        "vader_alone": {"macro_recall": vader, "per_class_recall": vader_per, "thresholds": [-0.05, 0.05]},
        "target": 0.70,
        "n": len(texts),
        "method": "triage model (corpus); rules_alone: VADER + care lexicon + phrase cues",
        "thresholds": [NEG_THRESHOLD, POS_THRESHOLD],
    }
    val = _tweeteval("val")
    if val is not None:
        out["tweeteval_val_macro_recall"] = macro_recall(
            [triage_message(t).sentiment for t in val[0]], val[1]
        )[0]
        if tune:
            scores = [sentiment(t).compound for t in val[0]]
            grid = [
                (round(lo, 2), round(hi, 2))
                for lo in _frange(-0.5, 0.0, 0.05)
                for hi in _frange(0.0, 0.6, 0.05)
            ]
            best = max(grid, key=lambda th: macro_recall([label_for(s, *th) for s in scores], val[1])[0])
            best_val = macro_recall([label_for(s, *best) for s in scores], val[1])[0]
            out["tuned_on_val"] = {"neg": best[0], "pos": best[1], "val_macro_recall": best_val}
    airline = DATA / "twitter-us-airline-sentiment" / "Tweets.csv"
    if airline.exists():
        with airline.open(encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        g = [r["airline_sentiment"] for r in rows]
        t = [r["text"] for r in rows]
        out["airline_macro_recall"] = macro_recall([triage_message(x).sentiment for x in t], g)[0]
        out["vader_alone"]["airline_macro_recall"] = macro_recall(
            [label_for(vader_compound(x), -0.05, 0.05) for x in t], g
        )[0]
    return out


def _frange(a: float, b: float, step: float) -> list[float]:
    n = int(round((b - a) / step))
    return [a + i * step for i in range(n + 1)]


def eval_complaints() -> dict[str, Any]:
    path = DATA / "complaints-social-media" / "complaints-data.csv"
    if not path.exists():
        return {"skipped": f"{path} absent"}
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))

    def score(pred: Callable[[str], bool]) -> dict[str, float]:
        tp = fp = fn = 0
        for r in rows:
            p, g = pred(r[1]), r[2] == "1"
            tp += p and g
            fp += p and not g
            fn += g and not p
        return prf(tp, fp, fn)

    return {
        "complaint": score(lambda t: triage_message(t).intent == "complaint"),
        "vader_alone": {"complaint_is_negative": score(lambda t: vader_compound(t) <= -0.05)},
        "target_f1": 0.85,
        "n": len(rows),
    }


def eval_presidio() -> dict[str, Any]:
    path = DATA / "presidio-synth-pii" / "synth_dataset_v2.json"
    if not path.exists():
        return {"skipped": f"{path} absent"}
    records = json.loads(path.read_text("utf-8"))
    tp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    ptp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    for rec in records:
        text = rec["full_text"]
        found = find_sensitive(text)
        gold = [
            (PRESIDIO_MAP[s["entity_type"]], s["start_position"], s["end_position"])
            for s in rec["spans"]
            if s["entity_type"] in PRESIDIO_MAP
        ]
        for kind, s, e in gold:
            hit = any(f.kind == kind and f.start < e and s < f.end for f in found)
            tp[kind] += hit
            fn[kind] += not hit
        for f in found:
            if f.kind not in PRESIDIO_MAP.values():
                continue  # kinds the data set does not label (order numbers, credentials, dates of birth)
            hit = any(k == f.kind and f.start < e and s < f.end for k, s, e in gold)
            ptp[f.kind] += hit
            fp[f.kind] += not hit
    per = {}
    for kind in sorted(set(tp) | set(fn) | set(fp)):
        rec_ = tp[kind] / (tp[kind] + fn[kind]) if tp[kind] + fn[kind] else 0.0
        prec = ptp[kind] / (ptp[kind] + fp[kind]) if ptp[kind] + fp[kind] else 0.0
        per[kind] = {
            "recall": round(rec_, 4),
            "precision": round(prec, 4),
            "gold_spans": tp[kind] + fn[kind],
            "predicted_spans": ptp[kind] + fp[kind],
        }
    return {
        "per_kind": per,
        "mapping": PRESIDIO_MAP,
        "matching": "span overlap, same kind",
        "targets": {"email/phone/payment_card": {"recall": 0.97, "precision": 0.95}},
        "vader_alone": "n/a (VADER detects no personal data)",
        "n": len(records),
    }


def eval_twcs() -> dict[str, Any]:
    path = DATA / "twcs-customer-support-on-twitter-sample" / "twcs_first5000.csv"
    if not path.exists():
        return {"skipped": f"{path} absent"}
    raw = path.read_text("utf-8").replace("\r", " ")
    rows = {r["tweet_id"]: r for r in csv.DictReader(io.StringIO(raw))}
    tp = fp = fn = tn = 0
    vtp = vfp = vfn = 0
    for r in rows.values():
        if r["inbound"] != "True" or not r["response_tweet_id"]:
            continue
        replies = [rows[i] for i in r["response_tweet_id"].split(",") if i in rows]
        brand = [x for x in replies if x["inbound"] == "False"]
        if not brand:
            continue
        gold = bool(ASKS_DM.search(brand[0]["text"]))
        pred = triage_message(r["text"], channel="mention").move_to_dm
        tp += pred and gold
        fp += pred and not gold
        fn += gold and not pred
        tn += not pred and not gold
        vpred = vader_compound(r["text"]) <= -0.05
        vtp += vpred and gold
        vfp += vpred and not gold
        vfn += gold and not vpred
    return {
        "move_to_dm_vs_brand_asked_dm": prf(tp, fp, fn),
        "pairs": tp + fp + fn + tn,
        "base_rate": round((tp + fn) / max(1, tp + fp + fn + tn), 4),
        "label": "the brand's first reply asks to DM / PM / private message / message us",
        "vader_alone": {"negative_predicts_dm": prf(vtp, vfp, vfn)},
    }


_TEMPLATES = [
    "@acme my order #{n} never arrived and nobody answers, terrible service",
    "@acme thanks so much, the new app is brilliant! 😍",
    "@acme how much is the pro plan? thinking of buying for my team of {k}",
    "@acme my card {card} was charged twice, call me on 07700 9{k:05d}",
    "@acme what time does the Leeds store open on Sunday?",
    "@acme please cancel my subscription, email is jane{k}@example.com",
    "my flight to Rome is tomorrow and it just got cancelled!!! @acme help",
    "@acme it would be great if the app had a dark mode",
    "FREE crypto giveaway, click here https://x.io/{k} https://y.io/{k}",
    "@acme app keeps crashing since the update, iOS 17.{k}, still not fixed",
    "@acme love the new store in Bristol, staff were lovely",
    "@acme is the 28 day return policy from when I send it or when you get it?",
]


def _luhn_card(rng: random.Random) -> str:
    digits = [4] + [rng.randrange(10) for _ in range(14)]
    total = 0
    for i, d in enumerate(reversed(digits)):
        d = d * 2 if i % 2 == 0 else d
        total += d - 9 if d > 9 else d
    digits.append((10 - total % 10) % 10)
    s = "".join(map(str, digits))
    return " ".join(s[i : i + 4] for i in range(0, 16, 4))


def eval_speed(n: int) -> dict[str, Any]:
    rng = random.Random(7)
    lines = []
    texts = []
    for i in range(n):
        template = rng.choice(_TEMPLATES)
        text = template.format(n=rng.randrange(10**7), k=rng.randrange(10**4), card=_luhn_card(rng))
        texts.append(text)
        lines.append(
            json.dumps(
                {
                    "id": str(i),
                    "text": text,
                    "channel": "mention",
                    "author": {"username": f"u{i}", "followers_count": rng.randrange(10**5)},
                }
            )
        )
    exe = shutil.which("flockdesk") or str(Path(sys.executable).with_name("flockdesk"))
    pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "msgs.jsonl"
        big.write_text("\n".join(lines) + "\n")
        empty = Path(tmp) / "empty.jsonl"
        empty.write_text("")
        startup, startup_cpu = _timed([*pin, exe, "triage", str(empty)])
        total, total_cpu = _timed([*pin, exe, "triage", str(big)])
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})
    vader_compound("warm up")
    t0, c0 = time.perf_counter(), time.process_time()
    for t in texts:
        vader_compound(t)
    vader_s, vader_cpu = time.perf_counter() - t0, time.process_time() - c0
    return {
        "cli_messages_per_second_one_core": round(n / total, 1),
        "cli_messages_per_second_excluding_startup": round(n / max(1e-9, total - startup), 1),
        "cli_messages_per_cpu_second_excluding_startup": round(n / max(1e-9, total_cpu - startup_cpu), 1),
        "cli_startup_seconds": round(startup, 3),
        "messages": n,
        "pinned": bool(pin),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
        "vader_alone_in_process_messages_per_second": round(n / vader_s, 1),
        "vader_alone_in_process_messages_per_cpu_second": round(n / max(1e-9, vader_cpu), 1),
        "target": 5000,
        "note": "per-CPU-second figures count only the CPU time the process got (fair on a busy machine)",
    }


def _timed(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child) for one run of `cmd`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tune", action="store_true", help="grid-search sentiment thresholds on TweetEval val")
    ap.add_argument("--speed-messages", type=int, default=20000)
    ap.add_argument("--only", choices=["corpus", "sentiment", "complaints", "presidio", "twcs", "speed"])
    ap.add_argument(
        "--split", choices=["val", "test"], default="test", help="corpus split to report (tune on val)"
    )
    args = ap.parse_args()
    parts: dict[str, Callable[[], dict[str, Any]]] = {
        "corpus": lambda: eval_corpus(args.split),
        "sentiment": lambda: eval_sentiment(args.tune),
        "complaints": eval_complaints,
        "presidio": eval_presidio,
        "twcs": eval_twcs,
        "speed": lambda: eval_speed(args.speed_messages),
    }
    out = {name: fn() for name, fn in parts.items() if args.only in (None, name)}
    print(json.dumps(out, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
