"""Shared pieces of the end-to-end proofs: an emulator, a connected account with its sources, and the
comparison of the store against the emulator's ground truth (`GET /_emulator/truth`)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.emulator.scenario import load_scenario
from flockdesk.emulator.server import EmulatorServer
from flockdesk.services.accounts.connected import add_account
from flockdesk.services.accounts.sources import add_search_source
from flockdesk.settings import Settings
from flockdesk.store.schema import conversations, dead_letters, messages

SCENARIO = "college"
NOT_LISTENED = ("retweet",)  # excluded by the default -is:retweet
ORG_KINDS = ("org_reply", "org_post", "org_dm")


def fast_settings(settings: Settings) -> Settings:
    """Short poll intervals and timeouts for an emulator running 900x faster than X."""
    return settings.model_copy(
        update={
            "poll_mentions_s": 0.2,
            "poll_search_s": 0.2,
            "poll_dms_s": 0.2,
            "http_timeout_s": 0.75,
        }
    )


def emulator(**overrides: Any) -> EmulatorServer:
    cfg: dict[str, Any] = {
        "scenario": SCENARIO,
        "speedup": 900.0,
        "mentions_window": 1_000_000,
        "timeout_s": 1.0,
    }
    cfg.update(overrides)
    return EmulatorServer(**cfg)


def scenario_query() -> str:
    sc = load_scenario(SCENARIO)
    return " OR ".join([f"#{h}" for h in sc.hashtags] + [f'"{n}"' for n in sc.names])


def connect(engine: Engine, settings: Settings, emu: EmulatorServer) -> int:
    info = add_account(engine, settings, base_url=emu.base_url, token=emu.token)
    add_search_source(engine, settings, scenario_query(), account_id=info.id)
    return info.id


def traffic(emu: EmulatorServer, messages_n: int, seed: int) -> dict[str, Any]:
    r = httpx.post(
        f"{emu.base_url}/_emulator/traffic",
        json={"scenario": SCENARIO, "messages": messages_n, "seed": seed},
        timeout=60,
    )
    r.raise_for_status()
    return r.json()  # type: ignore[no-any-return]


def faults(emu: EmulatorServer, rate: float, **extra: Any) -> dict[str, Any]:
    """Set the emulator's fault rate; returns its fault description (with counts injected so far)."""
    r = httpx.post(f"{emu.base_url}/_emulator/faults", json={"rate": rate, "seed": 7, **extra}, timeout=10)
    r.raise_for_status()
    return r.json()  # type: ignore[no-any-return]


def truth(emu: EmulatorServer) -> dict[str, Any]:
    r = httpx.get(f"{emu.base_url}/_emulator/truth", timeout=60)
    r.raise_for_status()
    return r.json()  # type: ignore[no-any-return]


def expected_inbound(t: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """external id -> (thread kind, external thread id) for every message Flockdesk must store."""
    out: dict[str, tuple[str, str]] = {}
    for p in t["posts"]:
        if p["kind"] in NOT_LISTENED or p["from_org"]:
            continue
        out[p["id"]] = ("public", p["conversation_id"])
    for d in t["dms"]:
        if not d["from_org"]:
            out[d["id"]] = ("dm", d["dm_conversation_id"])
    return out


def stored(engine: Engine) -> list[tuple[str, str, str, str]]:
    """(external id, direction, conversation kind, conversation thread id) of every stored message."""
    q = sa.select(
        messages.c.external_id, messages.c.direction, conversations.c.kind, conversations.c.external_thread_id
    ).join(conversations, conversations.c.id == messages.c.conversation_id)
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(q)]  # type: ignore[misc]


def inbound_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count()).select_from(messages).where(messages.c.direction == "in")
            ).scalar_one()
        )


def assert_exactly_once(engine: Engine, t: dict[str, Any]) -> None:
    want = expected_inbound(t)
    rows = [r for r in stored(engine) if r[1] == "in"]
    times = Counter(r[0] for r in rows)
    assert [k for k, n in times.items() if n > 1] == [], "stored more than once"
    missing = sorted(set(want) - set(times))
    assert missing == [], f"{len(missing)} of {len(want)} messages never stored, e.g. {missing[:5]}"
    extra = sorted(set(times) - set(want))
    assert extra == [], f"stored messages the emulator does not hold as inbound: {extra[:5]}"
    wrong = [(r[0], (r[2], r[3]), want[r[0]]) for r in rows if (r[2], r[3]) != want[r[0]]]
    assert wrong == [], f"{len(wrong)} messages in the wrong conversation, e.g. {wrong[:3]}"
    # one Flockdesk conversation per X conversation / DM conversation
    with engine.connect() as conn:
        threads = Counter(
            tuple(r)
            for r in conn.execute(sa.select(conversations.c.kind, conversations.c.external_thread_id))
        )
    assert [k for k, n in threads.items() if n > 1] == []


def dead_letter_reasons(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(dead_letters.c.reason)).scalars())


def wait_until(pred: Callable[[], bool], timeout: float, what: str, step: float = 0.25) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def worker_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment of a `flockdesk worker` process on the test's store, polling every 0.2 s."""
    env = dict(os.environ)
    env.update(
        {
            "FLOCKDESK_DATA_DIR": str(settings.data_dir),
            "FLOCKDESK_SECRET_KEY": settings.secret_key or "",
            "FLOCKDESK_POLL_MENTIONS_S": "0.2",
            "FLOCKDESK_POLL_SEARCH_S": "0.2",
            "FLOCKDESK_POLL_DMS_S": "0.2",
            "FLOCKDESK_HTTP_TIMEOUT_S": "1.0",
            "FLOCKDESK_LOG_LEVEL": "INFO",
            **extra,
        }
    )
    if settings.database_url:
        env["FLOCKDESK_DATABASE_URL"] = settings.database_url
    return env


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    script = Path(sys.executable).parent / "flockdesk"
    with log.open("ab") as fh:
        return subprocess.Popen([str(script), "worker"], env=env, stdout=fh, stderr=subprocess.STDOUT)
