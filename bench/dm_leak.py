"""Benchmark: the DM-leak rule on a public reply against a full DM history (reply_checks loads up to
DM_HISTORY_LIMIT of the contact's DMs plus RECENT_DM_LIMIT of the account's: 8,000 texts at most).

    uv run python bench/dm_leak.py [--dms 8000] [--runs 5]

Prints JSON: the mean time in ms of one `rules.dm_leak` call that finds no leak (the common case:
every DM is read).
"""

from __future__ import annotations

import argparse
import json
import random
import time

from flockdesk.domain import rules


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dms", type=int, default=8000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    rng = random.Random(1)
    vocab = [f"w{i}" for i in range(3000)]
    dms = [" ".join(rng.choice(vocab) for _ in range(rng.randint(5, 60))) for _ in range(args.dms)]
    public = " ".join(rng.choice(vocab) for _ in range(60))
    start = time.perf_counter()
    for _ in range(args.runs):
        if rules.dm_leak(public, dms) is not None:
            raise SystemExit("the generated texts overlap; change the seed")
    ms = (time.perf_counter() - start) / args.runs * 1000
    print(json.dumps({"dms": args.dms, "dm_leak_ms": round(ms, 1)}))


if __name__ == "__main__":
    main()
