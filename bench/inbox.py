"""Benchmark: inbox queries on a large store (1,000,000 messages in 200,000 conversations).

    uv run python bench/inbox.py [--messages N] [--conversations N] [--runs 50] [--postgres]

Fills a fresh store (SQLite in a temp dir by default; with --postgres a fresh database on
127.0.0.1:5432, dropped afterwards) by bulk insert through the driver (executemany / COPY; the FTS
triggers on SQLite run as in production), then prints JSON with the fill time and p50/p95 in ms of:
the first page of All open by priority, the first page of All open by waiting time, the Mine view, a
conversation view (thread + contact panel), and searches for a rare and a common word.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.services.conversations import actions as conversations
from flockdesk.services.conversations import inbox
from flockdesk.settings import Settings
from flockdesk.store.db import make_engine, upgrade

PG_ADMIN = os.environ.get("FLOCKDESK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
T0 = datetime(2026, 6, 1, tzinfo=UTC)
VOCAB = (
    "my",
    "order",
    "never",
    "arrived",
    "where",
    "is",
    "refund",
    "please",
    "help",
    "flight",
    "cancelled",
    "again",
    "bag",
    "lost",
    "love",
    "the",
    "new",
    "app",
    "thanks",
    "team",
    "terrible",
    "service",
    "waiting",
    "two",
    "hours",
    "still",
    "no",
    "answer",
    "can",
    "someone",
    "call",
    "me",
    "booking",
    "change",
    "seat",
    "wifi",
    "broken",
    "great",
    "support",
    "ordered",
    "last",
    "week",
    "account",
    "locked",
    "password",
    "reset",
    "charged",
    "twice",
    "card",
    "delivery",
    "late",
    "package",
    "damaged",
    "store",
    "staff",
    "rude",
    "amazing",
    "experience",
)
RARE = "zanzibar"  # in about 1 message in 2,000
SENS = '["email"]'


def _sqlite_ts(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%d %H:%M:%S.%f")


def _rows(
    n_msgs: int,
    n_convs: int,
    n_contacts: int,
    n_users: int,
    rng: random.Random,
    ts: Callable[[datetime], Any],
    boolean: Callable[[bool], Any],
) -> dict[str, Iterator[tuple[Any, ...]]]:
    """Row generators in insert order for contacts, conversations and messages."""

    def contacts() -> Iterator[tuple[Any, ...]]:
        for i in range(1, n_contacts + 1):
            yield (
                i,
                "x",
                str(10_000_000 + i),
                f"user{i}",
                f"User {i}",
                "bio",
                rng.randint(0, 200_000),
                boolean(i % 97 == 0),
                ts(T0),
                ts(T0),
            )

    def convs() -> Iterator[tuple[Any, ...]]:
        for i in range(1, n_convs + 1):
            r = rng.random()
            kind, channel = ("dm", "dm") if r < 0.2 else ("public", "search" if r < 0.3 else "mention")
            s = rng.random()
            status = "open" if s < 0.6 else ("snoozed" if s < 0.7 else "resolved")
            created = T0 + timedelta(seconds=i * 20)
            waiting = ts(created) if status == "open" and rng.random() < 0.7 else None
            assignee = rng.randint(1, n_users) if rng.random() < 0.5 else None
            yield (
                i,
                1,
                "x",
                kind,
                channel,
                str(20_000_000 + i),
                rng.randint(1, n_contacts),
                status,
                assignee,
                round(rng.random(), 4),
                ts(created),
                ts(created + timedelta(hours=1)),
                waiting,
            )

    def msgs() -> Iterator[tuple[Any, ...]]:
        for i in range(1, n_msgs + 1):
            conv = rng.randint(1, n_convs) if i > n_convs else i
            words = rng.choices(VOCAB, k=rng.randint(6, 18))
            if rng.random() < 0.0005:
                words.insert(rng.randrange(len(words)), RARE)
            direction = "in" if rng.random() < 0.8 else "out"
            created = T0 + timedelta(seconds=conv * 20 + rng.randint(0, 3600))
            yield (
                i,
                conv,
                "x",
                str(30_000_000 + i),
                "dm" if conv % 5 == 0 else "mention",
                direction,
                " ".join(words),
                ts(created),
                ts(created),
                rng.choice(("complaint", "question", "lead", "praise")),
                rng.choice(("negative", "neutral", "positive")),
                SENS if rng.random() < 0.05 else None,
                boolean(rng.random() < 0.03),
                boolean(rng.random() < 0.02),
                round(rng.random(), 4),
            )

    return {"contacts": contacts(), "conversations": convs(), "messages": msgs()}


COLUMNS = {
    "contacts": "id, platform, external_id, username, name, bio, followers_count, verified, first_seen_at, "
    "updated_at",
    "conversations": "id, account_id, platform, kind, channel, external_thread_id, contact_id, status, "
    "assignee_id, priority, created_at, last_message_at, waiting_since",
    "messages": "id, conversation_id, platform, external_id, kind, direction, text, created_at, ingested_at, "
    "intent, sentiment, sensitive, urgent, influencer, priority",
}


def _base_rows(engine: Engine, n_users: int) -> None:
    from flockdesk.store.schema import accounts, users

    with engine.begin() as conn:
        conn.execute(
            users.insert(),
            [
                dict(
                    username=f"agent{i}",
                    name=f"Agent {i}",
                    password_hash="x",
                    role="agent",
                    active=True,
                    created_at=T0,
                )
                for i in range(1, n_users + 1)
            ],
        )
        conn.execute(
            accounts.insert().values(
                platform="x",
                external_user_id="1",
                username="brand",
                display_name="Brand",
                purpose="care",
                base_url="http://127.0.0.1",
                credentials_encrypted=b"x",
                active=True,
                created_at=T0,
            )
        )


def fill_sqlite(engine: Engine, gens: dict[str, Iterator[tuple[Any, ...]]]) -> None:
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("BEGIN")
        for table, rows in gens.items():
            cols = COLUMNS[table]
            marks = ", ".join("?" for _ in cols.split(","))
            batch: list[tuple[Any, ...]] = []
            for row in rows:
                batch.append(row)
                if len(batch) >= 50_000:
                    cur.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", batch)
                    batch = []
            if batch:
                cur.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", batch)
        cur.execute("COMMIT")
        cur.execute("ANALYZE")
    finally:
        raw.close()


def fill_postgres(engine: Engine, gens: dict[str, Iterator[tuple[Any, ...]]]) -> None:
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        for table, rows in gens.items():
            with cur.copy(f"COPY {table} ({COLUMNS[table]}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for row in rows:
                    copy.write_row(row)
        for table in ("contacts", "conversations", "messages"):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        raw.commit()
        raw.driver_connection.autocommit = True  # type: ignore[union-attr]
        cur.execute("VACUUM ANALYZE")  # as autovacuum would: statistics, and the GIN pending list merged
        raw.driver_connection.autocommit = False  # type: ignore[union-attr]
    finally:
        raw.close()


def timed(fn: Callable[[], Any], runs: int) -> dict[str, float]:
    fn()  # warm the cache once
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return {
        "p50_ms": round(statistics.median(samples), 2),
        "p95_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.95))], 2),
    }


def run(engine: Engine, n_msgs: int, n_convs: int, runs: int, pg: bool) -> dict[str, Any]:
    rng = random.Random(42)
    n_users = 20
    n_contacts = max(1, n_convs // 4)
    upgrade(engine)
    _base_rows(engine, n_users)
    t = time.perf_counter()
    if pg:
        gens = _rows(n_msgs, n_convs, n_contacts, n_users, rng, lambda d: d, bool)
        fill_postgres(engine, gens)
    else:
        gens = _rows(n_msgs, n_convs, n_contacts, n_users, rng, _sqlite_ts, int)
        fill_sqlite(engine, gens)
    fill_s = time.perf_counter() - t
    with engine.connect() as conn:
        open_ids = [
            r[0] for r in conn.execute(sa.text("SELECT id FROM conversations WHERE status='open' LIMIT 5000"))
        ]
    picks = iter(rng.choice(open_ids) for _ in range(runs * 10))
    second = inbox.list_view(engine, "all", limit=50).next_cursor
    results = {
        "all_open_by_priority_first_page": timed(lambda: inbox.list_view(engine, "all", limit=50), runs),
        "all_open_by_priority_second_page": timed(
            lambda: inbox.list_view(engine, "all", limit=50, cursor=second), runs
        ),
        "all_open_by_waiting_first_page": timed(
            lambda: inbox.list_view(engine, "all", sort="waiting", limit=50), runs
        ),
        "mine_first_page": timed(lambda: inbox.list_view(engine, "mine", user_id=3, limit=50), runs),
        "conversation_view": timed(lambda: conversations.get_conversation(engine, next(picks)), runs),
        "search_rare_word": timed(lambda: inbox.search(engine, RARE, limit=50), runs),
        "search_two_common_words": timed(lambda: inbox.search(engine, "package damaged", limit=50), runs),
    }
    return {
        "backend": engine.dialect.name,
        "messages": n_msgs,
        "conversations": n_convs,
        "fill_seconds": round(fill_s, 1),
        "runs": runs,
        "results": results,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--conversations", type=int, default=200_000)
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--postgres", action="store_true", help="use a fresh database on 127.0.0.1:5432")
    args = ap.parse_args(argv)
    if args.conversations < 1 or args.messages < args.conversations:
        print("error: need --conversations >= 1 and --messages >= --conversations", file=sys.stderr)
        return 2
    if args.postgres:
        name = "fd_bench_" + uuid.uuid4().hex[:10]
        admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
            engine = make_engine(
                Settings(data_dir=Path(tempfile.gettempdir()), database_url=url, secret_key="b")
            )
            out = run(engine, args.messages, args.conversations, args.runs, True)
            engine.dispose()
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()
    else:
        with tempfile.TemporaryDirectory() as tmp:
            engine = make_engine(Settings(data_dir=Path(tmp), secret_key="b"))
            out = run(engine, args.messages, args.conversations, args.runs, False)
            engine.dispose()
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
