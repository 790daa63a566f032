"""End-to-end worker throughput: N emulator messages polled, parsed, triaged and stored.

    uv run python bench/worker.py [--messages 10000] [--postgres URL]

Prints JSON: messages stored per second from the first traffic to the last stored message, on SQLite
(a fresh temporary data directory) and, with --postgres, on that (empty, migrated) database.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from pathlib import Path

import httpx
import sqlalchemy as sa

from flockdesk.emulator.scenario import load_scenario
from flockdesk.emulator.server import EmulatorServer
from flockdesk.jobs.worker import Worker, WorkerOptions
from flockdesk.services.accounts.connected import add_account
from flockdesk.services.accounts.sources import add_search_source
from flockdesk.settings import Settings
from flockdesk.store.db import make_engine, upgrade
from flockdesk.store.schema import messages


def run(settings: Settings, n: int) -> dict[str, object]:
    engine = make_engine(settings)
    upgrade(engine)
    sc = load_scenario("college")
    query = " OR ".join([f"#{h}" for h in sc.hashtags] + [f'"{x}"' for x in sc.names])
    with EmulatorServer(scenario="college", speedup=900, mentions_window=10**7) as emu:
        settings = settings.model_copy(update={"allowed_api_hosts": ["127.0.0.1"]})  # the emulator
        account = add_account(engine, settings, base_url=emu.base_url, token=emu.token)
        add_search_source(engine, settings, query, account_id=account.id)
        stop = threading.Event()
        worker = Worker(engine, settings, stop=stop, options=WorkerOptions(idle_sleep_max_s=0.05))
        thread = threading.Thread(target=worker.run, daemon=True)
        t0 = time.perf_counter()
        made = httpx.post(
            f"{emu.base_url}/_emulator/traffic", json={"messages": n, "seed": 1}, timeout=120
        ).json()
        want = n - made["by_kind"].get("retweet", 0)
        thread.start()
        stored = 0
        while stored < want and time.perf_counter() - t0 < 600:
            time.sleep(0.1)
            with engine.connect() as conn:
                stored = conn.execute(
                    sa.select(sa.func.count()).select_from(messages).where(messages.c.direction == "in")
                ).scalar_one()
        elapsed = time.perf_counter() - t0
        stop.set()
        thread.join(timeout=30)
    engine.dispose()
    return {"messages": stored, "seconds": round(elapsed, 2), "messages_per_s": round(stored / elapsed, 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=10_000)
    ap.add_argument("--postgres", help="URL of an empty PostgreSQL database")
    args = ap.parse_args()
    fast = {"poll_mentions_s": 0.1, "poll_search_s": 0.1, "poll_dms_s": 0.1, "secret_key": "bench"}
    out: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        out["sqlite"] = run(Settings(data_dir=Path(tmp), **fast), args.messages)  # type: ignore[arg-type]
        if args.postgres:
            pg = Settings(data_dir=Path(tmp), database_url=args.postgres, **fast)  # type: ignore[arg-type]
            out["postgresql"] = run(pg, args.messages)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
