"""Benchmark: import a 100,000-message twarc2-like JSONL into SQLite and PostgreSQL, with triage
(what `flockdesk import` does by default) and without it (`--no-triage`), each into a fresh store.

    uv run python bench/ingest.py [--messages N] [--batch-size B] [--only sqlite|postgres]
        [--triage both|with|without]

Prints JSON: {"sqlite": {"with_triage": {"messages", "seconds", "messages_per_second", ...},
"without_triage": {...}}, "postgres": {...}}.
PostgreSQL is 127.0.0.1:5432 (a fresh database is created and dropped); skipped with a note if unreachable.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa

from flockdesk.services.ingest.importer import import_file
from flockdesk.settings import Settings
from flockdesk.store.db import make_engine, upgrade
from flockdesk.store.repo import stats
from flockdesk.store.schema import accounts

ORG = "1000"
PG_ADMIN = os.environ.get("FLOCKDESK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
WORDS = [
    "my",
    "flight",
    "was",
    "cancelled",
    "again",
    "where",
    "is",
    "my",
    "bag",
    "refund",
    "please",
    "love",
    "the",
    "new",
    "app",
    "thanks",
    "team",
    "terrible",
    "service",
    "😩",
    "🎓",
    "best",
    "college",
    "ever",
    "#StateU",
    "orientation",
    "help",
    "booking",
    "change",
    "seat",
    "wifi",
    "broken",
    "can",
    "someone",
    "call",
    "me",
    "asap",
    "still",
    "waiting",
    "two",
    "hours",
    "customer",
    "support",
    "is",
    "great",
    "👍",
    "ordered",
    "last",
    "week",
]
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def _ts(rng: random.Random, i: int) -> str:
    return (T0 + timedelta(seconds=i * 3 + rng.randint(0, 2))).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _user(uid: int, _rng: random.Random) -> dict[str, Any]:
    rng = random.Random(uid)  # a person's profile is the same on every page they appear in
    return {
        "id": str(uid),
        "username": f"user{uid}",
        "name": f"User {uid}",
        "description": "bio " * rng.randint(1, 8),
        "public_metrics": {
            "followers_count": rng.randint(0, 50000),
            "following_count": 10,
            "tweet_count": 100,
        },
        "verified": rng.random() < 0.02,
        "created_at": "2015-01-01T00:00:00.000Z",
    }


def generate(path: Path, n: int, seed: int = 7) -> None:
    """twarc2-like lines: tweet pages of 100 (mentions, replies, hashtag posts, org replies) and DM pages."""
    rng = random.Random(seed)
    authors = [2_000_000 + i for i in range(max(100, n // 5))]
    next_id = 1_900_000_000_000_000_000
    threads: list[tuple[str, str]] = []  # (conversation id, a tweet id in it)
    written = 0
    with path.open("wb") as fh:
        while written < n:
            size = min(100, n - written)
            if rng.random() < 0.2:  # a DM events page
                data: list[dict[str, Any]] = []
                senders = set()
                for _ in range(size):
                    next_id += 1
                    customer = rng.choice(authors)
                    sender = ORG if rng.random() < 0.3 else str(customer)
                    senders.add(sender)
                    data.append(
                        {
                            "id": str(next_id),
                            "event_type": "MessageCreate",
                            "sender_id": sender,
                            "dm_conversation_id": f"{ORG}-{customer}",
                            "created_at": _ts(rng, written + len(data)),
                            "text": " ".join(rng.choices(WORDS, k=rng.randint(4, 25))),
                        }
                    )
                page = {
                    "data": data,
                    "includes": {"users": [_user(int(s), rng) for s in senders]},
                    "meta": {"result_count": size},
                }
            else:
                data = []
                users: dict[str, dict[str, Any]] = {}
                for _ in range(size):
                    next_id += 1
                    tid = str(next_id)
                    r = rng.random()
                    author = ORG if r < 0.03 else str(rng.choice(authors))
                    tweet: dict[str, Any] = {
                        "id": tid,
                        "author_id": author,
                        "created_at": _ts(rng, written + len(data)),
                        "text": "@acme " + " ".join(rng.choices(WORDS, k=rng.randint(4, 30))),
                        "lang": "en",
                        "possibly_sensitive": False,
                        "reply_settings": "everyone",
                        "edit_history_tweet_ids": [tid],
                        "public_metrics": {
                            "retweet_count": 0,
                            "reply_count": 0,
                            "like_count": rng.randint(0, 9),
                            "quote_count": 0,
                        },
                        "entities": {"mentions": [{"start": 0, "end": 5, "username": "acme", "id": ORG}]},
                    }
                    if threads and (author == ORG or r < 0.45):
                        conv, parent = rng.choice(threads)
                        tweet["conversation_id"] = conv
                        tweet["referenced_tweets"] = [{"type": "replied_to", "id": parent}]
                        tweet["in_reply_to_user_id"] = ORG
                    else:
                        tweet["conversation_id"] = tid
                        threads.append((tid, tid))
                        if len(threads) > 5000:
                            threads.pop(0)
                    data.append(tweet)
                    users.setdefault(author, _user(int(author), rng))
                page = {
                    "data": data,
                    "includes": {"users": list(users.values())},
                    "meta": {"result_count": size, "newest_id": data[-1]["id"], "oldest_id": data[0]["id"]},
                    "__twarc": {"url": "https://api.x.com/2/users/1000/mentions", "version": "2.14.0"},
                }
            fh.write(orjson.dumps(page) + b"\n")
            written += size


def _account(engine: sa.Engine) -> int:
    with engine.begin() as conn:
        return int(
            conn.execute(
                accounts.insert().returning(accounts.c.id),
                {
                    "platform": "x",
                    "external_user_id": ORG,
                    "username": "acme",
                    "display_name": "Acme",
                    "purpose": "care",
                    "base_url": "http://127.0.0.1",
                    "credentials_encrypted": b"-",
                    "active": True,
                    "created_at": datetime.now(UTC),
                },
            ).scalar_one()
        )


def run(settings: Settings, path: Path, batch_size: int, triage: bool) -> dict[str, Any]:
    engine = make_engine(settings)
    try:
        upgrade(engine)
        account_id = _account(engine)
        start, cpu = time.perf_counter(), time.process_time()
        report = import_file(engine, path, account_id, batch_size=batch_size, triage=triage)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        total = stats(engine)["messages"]["total"]
    finally:
        engine.dispose()
    assert report.result is not None
    return {
        "messages": total,
        "inserted": report.result.inserted,
        "seconds": round(seconds, 3),
        "messages_per_second": round(total / seconds, 1),
        "batch_size": batch_size,
        "client_cpu_seconds": round(cpu, 3),
        "load_average_1m": os.getloadavg()[0],
    }


def run_postgres(path: Path, batch_size: int, triage: bool) -> dict[str, Any]:
    name = "fd_bench_" + uuid.uuid4().hex[:10]
    try:
        admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # noqa: BLE001
        return {"skipped": f"PostgreSQL unreachable at {PG_ADMIN}: {type(exc).__name__}"}
    try:
        url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
        return run(Settings(database_url=url, secret_key="bench"), path, batch_size, triage)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    parser.add_argument("--triage", choices=["both", "with", "without"], default="both")
    args = parser.parse_args()
    modes = {"both": (True, False), "with": (True,), "without": (False,)}[args.triage]
    out: dict[str, Any] = {"messages_in_file": args.messages}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "messages.jsonl"
        generate(path, args.messages)
        out["file_bytes"] = path.stat().st_size
        for backend in ("sqlite", "postgres"):
            if args.only not in (None, backend):
                continue
            figures: dict[str, Any] = {}
            for triage in modes:
                key = "with_triage" if triage else "without_triage"
                if backend == "sqlite":
                    data_dir = Path(tmp) / f"data-{key}"
                    settings = Settings(data_dir=data_dir, secret_key="bench")
                    figures[key] = run(settings, path, args.batch_size, triage)
                else:
                    figures[key] = run_postgres(path, args.batch_size, triage)
            out[backend] = figures
    sys.stdout.write(orjson.dumps(out).decode() + "\n")


if __name__ == "__main__":
    main()
