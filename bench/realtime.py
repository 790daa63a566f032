"""Event-to-inbox latency through the X Activity API stream: from the moment the emulator emits an
event (a mention, reply or DM arriving on "X") to the moment the message is committed in the store.

    uv run python bench/realtime.py [--messages 600] [--rounds 30] [--postgres URL]

Polling is switched off so that only the stream stores; traffic arrives in rounds (messages/rounds
every 0.2 s). Prints JSON per store: events, p50, p95 and max latency in milliseconds. Triage runs
as in production (it is part of the path to the inbox).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import sqlalchemy as sa

from flockdesk.emulator.server import EmulatorServer
from flockdesk.jobs.stream import RealtimeOptions
from flockdesk.jobs.worker import Worker, WorkerOptions
from flockdesk.services.accounts.connected import add_account
from flockdesk.services.accounts.sources import list_sources, set_enabled
from flockdesk.settings import Settings
from flockdesk.store.db import make_engine, upgrade
from flockdesk.store.schema import messages

INBOUND = {"post.mention.create", "post.reply.create", "post.quote.create", "dm.received"}


def _event_times(emu: EmulatorServer) -> dict[str, float]:
    out: dict[str, float] = {}
    for ev in list(emu.state.activity.events):
        if ev.event_type not in INBOUND:
            continue
        mid = (
            ev.payload["direct_message_events"][0]["id"]
            if ev.event_type == "dm.received"
            else ev.payload["id"]
        )
        out.setdefault(str(mid), ev.at)
    return out


def run(settings: Settings, n: int, rounds: int) -> dict[str, object]:
    engine = make_engine(settings)
    upgrade(engine)
    with EmulatorServer(scenario="college", speedup=900, mentions_window=10**7) as emu:
        settings = settings.model_copy(
            update={"allowed_api_hosts": ["127.0.0.1"], "x_app_bearer_token": emu.app_bearer}
        )
        add_account(engine, settings, base_url=emu.base_url, token=emu.token)
        for s in list_sources(engine):
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
        deadline = time.monotonic() + 30
        while emu.state.stream_open < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        for i in range(rounds):
            httpx.post(
                f"{emu.base_url}/_emulator/traffic",
                json={"scenario": "college", "messages": max(1, n // rounds), "seed": 500 + i},
                timeout=60,
            ).raise_for_status()
            time.sleep(0.2)
        emitted = _event_times(emu)
        deadline = time.monotonic() + 120
        stored: dict[str, datetime] = {}
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                stored = {
                    r[0]: r[1]
                    for r in conn.execute(
                        sa.select(messages.c.external_id, messages.c.ingested_at).where(
                            messages.c.direction == "in"
                        )
                    )
                }
            if set(emitted) <= set(stored):
                break
            time.sleep(0.25)
        stop.set()
        thread.join(timeout=30)
    engine.dispose()
    lags = sorted(
        (stored[mid].astimezone(UTC).timestamp() - at) * 1000 for mid, at in emitted.items() if mid in stored
    )
    q = statistics.quantiles(lags, n=100, method="inclusive") if len(lags) > 1 else lags * 99
    return {
        "events": len(emitted),
        "stored": len(lags),
        "p50_ms": round(q[49], 1),
        "p95_ms": round(q[94], 1),
        "max_ms": round(lags[-1], 1) if lags else None,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=600)
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--postgres", help="URL of an empty PostgreSQL database")
    args = ap.parse_args()
    out: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        out["sqlite"] = run(Settings(data_dir=Path(tmp), secret_key="bench"), args.messages, args.rounds)
    if args.postgres:
        out["postgresql"] = run(
            Settings(data_dir=Path(tempfile.mkdtemp()), database_url=args.postgres, secret_key="bench"),
            args.messages,
            args.rounds,
        )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
