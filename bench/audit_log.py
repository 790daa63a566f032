"""Benchmark: the merged audit log (services/team/audit_log.py) over a large conversation history.

    uv run python bench/audit_log.py [--events 300000] [--runs 20] [--no-index]

Fills a fresh SQLite store with conversations and `--events` history rows (what ingest writes, one
per conversation per page) plus 1 audit event per 100, then prints JSON with the fill time and the
p50/p95 in ms of: the first page of the merged log, the 20th page (following the cursor), a page
filtered to one conversation, and a conversation's activity (its newest 200 events).
`--no-index` drops ix_conversation_events_at (migration 0018) first, to show what it saves.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from flockdesk.domain.conversation_state import ConversationState
from flockdesk.services.conversations import history
from flockdesk.services.conversations import state as state_svc
from flockdesk.services.team import audit, audit_log
from flockdesk.settings import Settings
from flockdesk.store.db import make_engine, upgrade
from flockdesk.store.schema import accounts, conversations

T0 = datetime(2026, 6, 1, tzinfo=UTC)


def _timed(fn: Callable[[], Any], runs: int) -> dict[str, float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, math.ceil(len(times) * 0.95) - 1)]  # nearest rank
    return {"p50": round(statistics.median(times), 2), "p95": round(p95, 2)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=300_000)
    ap.add_argument("--conversations", type=int, default=20_000)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--no-index", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(Settings(data_dir=Path(tmp), secret_key="bench"))
        upgrade(engine)
        if args.no_index:
            with engine.begin() as conn:
                conn.execute(sa.text("DROP INDEX ix_conversation_events_at"))
        start = time.perf_counter()
        with engine.begin() as conn:
            acct = conn.execute(
                accounts.insert().values(
                    platform="x",
                    external_user_id="900",
                    username="brand",
                    base_url="http://127.0.0.1:1",
                    credentials_encrypted=b"x",
                    created_at=T0,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            conn.execute(
                conversations.insert(),
                [
                    {
                        "account_id": acct,
                        "platform": "x",
                        "kind": "public",
                        "channel": "mention",
                        "external_thread_id": str(i),
                        "status": "open",
                        "priority": 0.5,
                        "created_at": T0,
                        "last_message_at": T0,
                    }
                    for i in range(args.conversations)
                ],
            )
            before = ConversationState(status="open", priority=0.2)
            after = ConversationState(status="open", priority=0.9)
            batch: list[dict[str, Any]] = []
            for i in range(args.events):
                at = T0 + timedelta(seconds=i)
                batch.append(state_svc.event_row(1 + i % args.conversations, "inbound", before, after, at=at))
                if i % 100 == 0:
                    audit.record(conn, None, "system", "alert.spike", None, None, at=at)
                if len(batch) == 5000:
                    state_svc.record_many(conn, batch)
                    batch = []
            state_svc.record_many(conn, batch)
        fill_s = time.perf_counter() - start

        def page_20() -> None:
            after_cursor = None
            for _ in range(20):
                after_cursor = audit_log.read(engine, after=after_cursor).next_cursor

        out = {
            "events": args.events,
            "conversations": args.conversations,
            "index_at": not args.no_index,
            "fill_s": round(fill_s, 1),
            "first_page_ms": _timed(lambda: audit_log.read(engine), args.runs),
            "twenty_pages_ms": _timed(page_20, max(1, args.runs // 5)),
            "one_conversation_ms": _timed(
                lambda: audit_log.read(engine, target_type="conversation", target_id=7), args.runs
            ),
            "activity_ms": _timed(lambda: history.activity(engine, 7), args.runs),
        }
        engine.dispose()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
