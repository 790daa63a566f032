"""Shared pieces of the end-to-end proofs: an emulator, a connected account with its sources, `flockdesk
worker` processes, the comparison of the store against the emulator's ground truth
(`GET /_emulator/truth`), and the mixed run (stream events, polled search, legacy DMs and X Chat with
SIGKILLs, faults and dropped streams) that `test_e2e_mixed.py` and `bench/e2e_mixed.py` share."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.connectors.x.links import dm_thread_id
from flockdesk.emulator.scenario import load_scenario
from flockdesk.emulator.server import EmulatorServer
from flockdesk.services.accounts import xchat_keys
from flockdesk.services.accounts.connected import add_account
from flockdesk.services.accounts.sources import add_search_source
from flockdesk.settings import Settings
from flockdesk.store.schema import api_usage, conversations, dead_letters, messages

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


@dataclass(frozen=True)
class Expected:
    """What the store must hold for one inbound message of the ground truth."""

    truth_kind: str  # the emulator's kind: mention, reply, hashtag, name, spam, dm, chat
    thread: tuple[str, str]  # (conversation kind, external thread id)
    kind: str  # the message kind Flockdesk stores (by content: a post that tags the brand is a mention)
    text: str  # for an X Chat message, the plaintext the customer encrypted
    transport: str | None  # for a DM: legacy | xchat


def chat_external_id(chat: dict[str, Any]) -> str:
    return f"xchat:{chat['id']}"


def chat_thread(chat: dict[str, Any]) -> str:
    """The customer's one DM thread (the id legacy DMs use) for a 1:1 chat, the group's own id else."""
    members = chat["participant_ids"]
    return dm_thread_id(*members) if len(members) == 2 else str(chat["conversation_id"])


def expected_messages(t: dict[str, Any]) -> dict[str, Expected]:
    """external id -> what must be stored, for every inbound message of the truth (an X Chat message
    garbled in transit is a dead letter instead)."""
    out: dict[str, Expected] = {}
    for p in t["posts"]:
        if p["kind"] in NOT_LISTENED or p["from_org"]:
            continue
        kind = "reply" if p["in_reply_to_tweet_id"] else "mention" if p["mentions_org"] else "search"
        out[p["id"]] = Expected(p["kind"], ("public", p["conversation_id"]), kind, p["text"], None)
    for d in t["dms"]:
        if not d["from_org"]:
            out[d["id"]] = Expected("dm", ("dm", d["dm_conversation_id"]), "dm", d["text"], "legacy")
    for c in t.get("chats", []):
        if not c["from_org"] and not c["garbled"]:
            out[chat_external_id(c)] = Expected("chat", ("dm", chat_thread(c)), "dm", c["text"], "xchat")
    return out


def expected_inbound(t: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """external id -> (thread kind, external thread id) for every message Flockdesk must store."""
    return {ext: e.thread for ext, e in expected_messages(t).items()}


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


def assert_matches_truth(engine: Engine, t: dict[str, Any]) -> dict[str, dict[str, int]]:
    """`assert_exactly_once`, and each message with the kind its content gives it, DM text as the customer
    wrote it (X Chat decrypted), each DM on its transport, and each garbled X Chat message a dead letter
    naming it. Returns per emulator kind the messages expected and stored."""
    want = expected_messages(t)
    have = {r[0] for r in stored(engine) if r[1] == "in"}
    missing = [x for x in want if x not in have]
    if missing:
        reasons = [
            r for r in dead_letter_reasons(engine) if any(x.removeprefix("xchat:") in r for x in missing)
        ]
        by_kind = Counter(want[x].truth_kind for x in missing)
        raise AssertionError(
            f"{len(missing)} of {len(want)} messages never stored ({dict(by_kind)}), e.g. {missing[:5]}; "
            f"dead letters naming them: {reasons[:5]}"
        )
    assert_exactly_once(engine, t)
    q = sa.select(messages.c.external_id, messages.c.kind, messages.c.text, messages.c.transport).where(
        messages.c.direction == "in"
    )
    with engine.connect() as conn:
        rows = {r.external_id: r for r in conn.execute(q)}
    wrong_kind = [(x, r.kind, want[x].kind) for x, r in rows.items() if r.kind != want[x].kind]
    assert wrong_kind == [], f"{len(wrong_kind)} messages of the wrong kind, e.g. {wrong_kind[:3]}"
    dms = {x: e for x, e in want.items() if e.thread[0] == "dm"}
    wrong_text = [(x, rows[x].text, e.text) for x, e in dms.items() if rows[x].text != e.text]
    assert wrong_text == [], f"{len(wrong_text)} DMs whose text is not what was sent, e.g. {wrong_text[:3]}"
    wrong_way = [
        (x, rows[x].transport, e.transport)
        for x, e in dms.items()
        if (rows[x].transport or "legacy") != e.transport
    ]
    assert wrong_way == [], f"{len(wrong_way)} DMs on the wrong transport, e.g. {wrong_way[:3]}"
    reasons = " ".join(dead_letter_reasons(engine))
    garbled = [c["id"] for c in t.get("chats", []) if c["garbled"] and not c["from_org"]]
    unexplained = [i for i in garbled if f"X Chat event {i} " not in reasons]
    assert unexplained == [], f"garbled X Chat messages without a dead letter: {unexplained[:5]}"
    counts: dict[str, dict[str, int]] = {}
    for x, e in want.items():
        entry = counts.setdefault(e.truth_kind, {"expected": 0, "stored": 0})
        entry["expected"] += 1
        entry["stored"] += x in rows
    counts["chat_garbled"] = {"expected": len(garbled), "dead_letters": len(garbled) - len(unexplained)}
    return counts


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


# -- the mixed run -----------------------------------------------------------------------------------
# Stream events (mentions, replies, legacy DMs, X Chat through the X Activity API), polled search
# (hashtags and names), polled mentions, DMs and X Chat as reconciliation, all at once; the worker is a
# `flockdesk worker` process killed with SIGKILL between rounds of traffic, while a share of the read
# responses are faults and the stream is dropped (at random, every few seconds, and by the control API).


@dataclass
class MixedRun:
    messages: int  # inbound messages the traffic made (the truth's own count)
    by_kind: dict[str, int]  # the traffic's answer, summed over its rounds
    kills: int
    seconds: float  # from the first traffic to every message stored
    returncode: int | None  # of the last worker, stopped with SIGTERM
    fault_rate: float  # the share of read responses that were faults
    faults: dict[str, Any]  # the emulator's fault description at the end (faults off), with counts injected
    stream_connects: int  # activity streams the emulator accepted (each drop is followed by one)
    stream_events: int  # envelopes the streams carried (backfill repeats included)
    truth: dict[str, Any]
    costs: dict[str, Any]  # cost_totals() at the end
    log: Path


def drop_streams(emu: EmulatorServer) -> int:
    r = httpx.post(f"{emu.base_url}/_emulator/streams/drop", timeout=10)
    r.raise_for_status()
    return int(r.json()["dropped"])


def cost_totals(engine: Engine, emu: EmulatorServer) -> dict[str, Any]:
    """What the cost meter recorded in the store (`api_usage`) beside what the emulator's ledger says X
    would charge (`GET /_emulator/stats?billing=1`), for a meter-vs-ledger comparison."""
    with engine.connect() as conn:
        meter = conn.execute(sa.select(sa.func.coalesce(sa.func.sum(api_usage.c.cost_usd), 0.0))).scalar_one()
        by_endpoint = {
            str(r.endpoint): round(float(r.usd), 6)
            for r in conn.execute(
                sa.select(api_usage.c.endpoint, sa.func.sum(api_usage.c.cost_usd).label("usd")).group_by(
                    api_usage.c.endpoint
                )
            )
        }
    r = httpx.get(f"{emu.base_url}/_emulator/stats", params={"billing": 1}, timeout=60)
    r.raise_for_status()
    ledger = r.json()["billing"]
    return {
        "meter_usd": round(float(meter), 6),
        "meter_by_endpoint": by_endpoint,
        "ledger_usd": ledger["total_usd"],
        "ledger_by_kind": ledger["by_kind"],
    }


def garbled_dead(engine: Engine, t: dict[str, Any]) -> int:
    reasons = " ".join(dead_letter_reasons(engine))
    return sum(
        1 for c in t["chats"] if c["garbled"] and not c["from_org"] and f"X Chat event {c['id']} " in reasons
    )


def run_mixed(
    engine: Engine,
    settings: Settings,
    workdir: Path,
    *,
    total: int,
    kills: int = 5,
    fault_rate: float = 0.2,
    stream_drop_rate: float = 0.002,
    stream_drop_every_s: float = 3.0,
    seed: int = 20261205,
) -> MixedRun:
    """`total` messages in `kills + 1` rounds; after each of the first `kills` rounds, once the worker is
    at work on it, the stream is dropped through the control API and, at a random moment, the worker
    is killed with SIGKILL and started again. Waits until every message the truth holds is stored (at
    most max(180 s, total / 20 s): what is still missing then is for `assert_matches_truth` to name),
    then stops the worker with SIGTERM."""
    rng = random.Random(seed)
    log = workdir / "worker.log"
    with emulator() as emu:
        account_id = connect(engine, fast_settings(settings), emu)
        # customers reach the brand on X Chat once its keys are published
        assert xchat_keys.generate(engine, settings, account_id).state == "ready"
        faults(
            emu,
            fault_rate,
            stream_drop_rate=stream_drop_rate,
            stream_drop_every_s=stream_drop_every_s,
        )
        env = worker_env(
            settings,
            FLOCKDESK_X_APP_BEARER_TOKEN=emu.app_bearer,
            FLOCKDESK_LEASE_TTL_S="3",  # a killed worker's stream and sources are taken over soon
            FLOCKDESK_MONTHLY_BUDGET_USD="1000000",  # the cost meter must not slow the run
        )
        rounds = [total // (kills + 1)] * (kills + 1)
        rounds[-1] += total - sum(rounds)
        by_kind: Counter[str] = Counter()
        done = 0
        t0 = time.monotonic()
        proc = start_worker(env, log)
        returncode: int | None = None
        try:
            wait_until(lambda: len(emu.state.subscriptions) >= 11, 60, "the account's subscriptions")
            for i, n in enumerate(rounds):
                before = inbound_count(engine)
                made = traffic(emu, n, seed=seed + i)
                by_kind.update(made["by_kind"])
                if i == len(rounds) - 1:
                    break
                # once the worker is at work on the round: a drop, then a kill at a random moment
                wait_until(lambda b=before: inbound_count(engine) > b, 120, "the worker to ingest")
                drop_streams(emu)
                time.sleep(rng.uniform(0.05, 1.5))
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=10)
                done += 1
                proc = start_worker(env, log)
            t = truth(emu)
            want = len(expected_messages(t))
            garbled = sum(1 for c in t["chats"] if c["garbled"] and not c["from_org"])
            # not an assertion here: the caller compares with the truth and says what is missing
            deadline = time.monotonic() + max(180.0, total / 20)
            while time.monotonic() < deadline:
                if inbound_count(engine) >= want and garbled_dead(engine, t) >= garbled:
                    break
                time.sleep(1.0)
            seconds = time.monotonic() - t0
            assert proc.poll() is None, "the worker died on its own:\n" + log.read_text()[-3000:]
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    returncode = proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
        described = faults(emu, 0.0)
        stats = httpx.get(f"{emu.base_url}/_emulator/stats", timeout=60).json()
        return MixedRun(
            messages=sum(by_kind.values()),
            by_kind=dict(by_kind),
            kills=done,
            seconds=seconds,
            returncode=returncode,
            fault_rate=fault_rate,
            faults=described,
            stream_connects=int(stats["stream_connects"]),
            stream_events=int(stats["stream_events"]),
            truth=truth(emu),
            costs=cost_totals(engine, emu),
            log=log,
        )
