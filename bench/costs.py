"""What X charges per 1,000 messages, polled vs streamed, by Flockdesk's cost meter and by the
emulator's ledger (what X would bill), against the emulator.

    uv run python bench/costs.py [--messages 1000] [--rounds 10] [--postgres URL]

Three runs of the same traffic (the "college" scenario: mentions, replies, quotes, DMs, listening
hits, follows), each with a fresh store and emulator, a worker running as in production:
  * polled: mentions, DMs and search polled (every 0.2 s: the emulator runs 900x faster than X, so
    this is a 3-minute interval; DM polls return the same events again and again);
  * streamed: mentions, replies, quotes and DMs come as X Activity events, search is still polled
    (events do not cover keyword listening), the mentions and DM polls are off;
  * streamed_and_reconciled: the default: events, with the mentions and DM polls kept, slower, for
    backfill and reconciliation.
Traffic arrives in rounds while the worker runs; each run ends when every inbound message is stored
(and a few more seconds of polling). Prints JSON per store and run: inbound messages, USD by the
meter and by the ledger, their difference in %, USD per 1,000 messages, and the ledger's breakdown.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from flockdesk.emulator.scenario import load_scenario
from flockdesk.emulator.server import EmulatorServer
from flockdesk.jobs.stream import RealtimeOptions
from flockdesk.jobs.worker import Worker, WorkerOptions
from flockdesk.services.accounts.connected import add_account
from flockdesk.services.accounts.sources import add_search_source, list_sources, set_enabled
from flockdesk.settings import Settings
from flockdesk.store.db import make_engine, upgrade
from flockdesk.store.schema import api_usage, messages

SCENARIO = "college"
MODES = ("polled", "streamed", "streamed_and_reconciled")


def _query() -> str:
    sc = load_scenario(SCENARIO)
    return " OR ".join([f"#{h}" for h in sc.hashtags] + [f'"{n}"' for n in sc.names])


def _expected(emu: EmulatorServer) -> set[str]:
    t = httpx.get(f"{emu.base_url}/_emulator/truth", timeout=60).json()
    posts = {p["id"] for p in t["posts"] if not p["from_org"] and p["kind"] != "retweet"}
    return posts | {d["id"] for d in t["dms"] if not d["from_org"]}


def _stored(engine: sa.Engine) -> set[str]:
    with engine.connect() as conn:
        q = sa.select(messages.c.external_id).where(messages.c.direction == "in")
        return set(conn.execute(q).scalars())


def _meter(engine: sa.Engine) -> tuple[float, dict[str, dict[str, float]]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                api_usage.c.endpoint,
                sa.func.sum(api_usage.c.calls),
                sa.func.sum(api_usage.c["items"]),
                sa.func.sum(api_usage.c.billed_items),
                sa.func.sum(api_usage.c.cost_usd),
            ).group_by(api_usage.c.endpoint)
        ).all()
    by = {
        str(r[0]): {"calls": int(r[1]), "items": int(r[2]), "billed": int(r[3]), "usd": round(float(r[4]), 4)}
        for r in rows
    }
    return sum(float(r[4]) for r in rows), by


def run(settings: Settings, mode: str, n: int, rounds: int) -> dict[str, Any]:
    engine = make_engine(settings)
    upgrade(engine)
    with EmulatorServer(scenario=SCENARIO, speedup=900, mentions_window=10**7) as emu:
        update: dict[str, Any] = {
            "allowed_api_hosts": ["127.0.0.1"],
            "poll_mentions_s": 0.2,
            "poll_search_s": 0.2,
            "poll_dms_s": 0.2,
        }
        if mode != "polled":
            update["x_app_bearer_token"] = emu.app_bearer
        settings = settings.model_copy(update=update)
        info = add_account(engine, settings, base_url=emu.base_url, token=emu.token)
        add_search_source(engine, settings, _query(), account_id=info.id)
        if mode == "streamed":
            for s in list_sources(engine):
                if s.kind in ("mentions", "dms"):
                    set_enabled(engine, s.id, False)
        stop = threading.Event()
        worker = Worker(
            engine,
            settings,
            stop=stop,
            options=WorkerOptions(idle_sleep_max_s=0.1, realtime=RealtimeOptions(supervise_every_s=0.1)),
        )
        thread = threading.Thread(target=worker.run, daemon=True)
        thread.start()
        if mode != "polled":
            deadline = time.monotonic() + 30
            while emu.state.stream_open < 1 and time.monotonic() < deadline:
                time.sleep(0.05)
        for i in range(rounds):
            httpx.post(
                f"{emu.base_url}/_emulator/traffic",
                json={"scenario": SCENARIO, "messages": max(1, n // rounds), "seed": 700 + i},
                timeout=60,
            ).raise_for_status()
            time.sleep(0.5)
        want = _expected(emu)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and not want <= _stored(engine):
            time.sleep(0.25)
        time.sleep(3.0)  # a few more polls: re-reads the meter must not bill again
        stop.set()
        thread.join(timeout=30)
        ledger = httpx.get(f"{emu.base_url}/_emulator/stats", params={"billing": 1}, timeout=10).json()[
            "billing"
        ]
        stored = len(want & _stored(engine))
    meter_usd, by_endpoint = _meter(engine)
    engine.dispose()
    ledger_usd = float(ledger["total_usd"])
    return {
        "messages": len(want),
        "stored": stored,
        "meter_usd": round(meter_usd, 4),
        "ledger_usd": round(ledger_usd, 4),
        "difference_pct": round(abs(meter_usd - ledger_usd) / ledger_usd * 100, 3) if ledger_usd else 0.0,
        "meter_usd_per_1000": round(meter_usd / len(want) * 1000, 3) if want else None,
        "ledger_usd_per_1000": round(ledger_usd / len(want) * 1000, 3) if want else None,
        "ledger_by_kind": ledger["by_kind"],
        "meter_by_endpoint": by_endpoint,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--modes", default=",".join(MODES), help="comma-separated subset of " + ", ".join(MODES))
    ap.add_argument("--postgres", help="URL of an empty PostgreSQL database (each run empties it)")
    args = ap.parse_args()
    out: dict[str, Any] = {}
    for mode in args.modes.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            out.setdefault("sqlite", {})[mode] = run(
                Settings(data_dir=Path(tmp), secret_key="bench"), mode, args.messages, args.rounds
            )
        if args.postgres:
            pg = Settings(data_dir=Path(tempfile.mkdtemp()), database_url=args.postgres, secret_key="bench")
            _empty(pg)
            out.setdefault("postgresql", {})[mode] = run(pg, mode, args.messages, args.rounds)
    print(json.dumps(out))


def _empty(settings: Settings) -> None:
    engine = make_engine(settings)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


if __name__ == "__main__":
    main()
