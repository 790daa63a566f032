"""`flockdesk worker` is killed with SIGKILL at random moments (at least 5 times)
and restarted while 10,000 emulator messages arrive; still every message is stored exactly once, in
the right conversation, and no reply in the outbox is sent twice. Both backends."""

from __future__ import annotations

import random
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.services.replies import outbox
from flockdesk.settings import Settings
from flockdesk.store.schema import messages
from flockdesk.store.schema import outbox as outbox_t

from .harness import (
    assert_exactly_once,
    connect,
    emulator,
    expected_inbound,
    fast_settings,
    inbound_count,
    start_worker,
    traffic,
    truth,
    wait_until,
    worker_env,
)

KILLS = 5
TOTAL = 10_000


def _queue_replies(engine: Engine, account_id: int, n: int) -> list[str]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(messages.c.external_id, messages.c.conversation_id)
            .where(messages.c.kind == "mention")
            .order_by(messages.c.id)
            .limit(n)
        ).all()
    texts = []
    for i, (ext, conv) in enumerate(rows):
        text = f"Thanks for reaching out, we are on it (ref {i})"
        outbox.enqueue(
            engine,
            account_id=account_id,
            kind="reply",
            text=text,
            conversation_id=conv,
            in_reply_to=ext,
            idempotency_key=f"e2e-{i}",
        )
        texts.append(text)
    return texts


@pytest.mark.slow
def test_worker_killed_at_random_moments_loses_and_repeats_nothing(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    rng = random.Random(20261121)
    env = worker_env(settings)
    log = tmp_path / "worker.log"
    with emulator() as emu:
        account_id = connect(engine, fast_settings(settings), emu)
        traffic(emu, 500, seed=1)
        t0 = time.monotonic()
        proc = start_worker(env, log)
        kills = 0
        replies: list[str] = []
        try:
            wait_until(lambda: inbound_count(engine) > 100, 60, "the first messages")
            print(f"first at {time.monotonic() - t0:.1f}s")
            replies = _queue_replies(engine, account_id, 20)
            per_round = (TOTAL - 500) // KILLS
            for i in range(KILLS):
                before = inbound_count(engine)
                traffic(emu, per_round, seed=10 + i)
                # once this worker is at work on the new traffic, a random moment: mid-page, mid-send, idle
                wait_until(lambda b=before: inbound_count(engine) > b, 60, "the restarted worker to ingest")
                time.sleep(rng.uniform(0.05, 1.5))
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=10)
                kills += 1
                proc = start_worker(env, log)
                print(f"kill {kills} at {time.monotonic() - t0:.1f}s, stored {inbound_count(engine)}")
            rest = TOTAL - 500 - per_round * KILLS
            if rest:
                traffic(emu, rest, seed=99)
            want = len(expected_inbound(truth(emu)))
            wait_until(
                lambda: inbound_count(engine) >= want, 120, f"{want} messages stored after {kills} kills"
            )
            print(f"all stored at {time.monotonic() - t0:.1f}s")
            wait_until(lambda: _unsent(engine) == 0, 30, "the outbox to drain")
            assert proc.poll() is None, "the worker died on its own:\n" + log.read_text()[-3000:]
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
        assert kills >= 5
        assert proc.returncode == 0, "SIGTERM should stop the worker cleanly"
        assert_exactly_once(engine, truth(emu))
        # one message is its text to one target (the opt-out acknowledgement goes to many people)
        sent = Counter(
            (s["text"], s.get("in_reply_to_tweet_id"), s.get("recipient_id"))
            for s in httpx.get(f"{emu.base_url}/_emulator/sent").json()["sent"]
        )
    assert [t for t, n in sent.items() if n > 1] == [], "a reply was sent twice"
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                outbox_t.c.text,
                outbox_t.c.in_reply_to_external_id,
                outbox_t.c.recipient_external_id,
                outbox_t.c.status,
                outbox_t.c.error,
            )
        ).all()
    for text, in_reply_to, recipient, status, error in rows:
        key = (text, in_reply_to, recipient)
        if status == "sent":
            assert sent[key] == 1
        elif status == "queued":  # an opt-out acknowledgement waiting for the DM quota
            assert recipient is not None and sent[key] == 0
        else:  # only a send interrupted by a kill may be in doubt, and it is never resent blindly
            assert status in ("sending", "failed") and sent[key] <= 1, (text, status, error)
    assert sum(1 for r in rows if r.status == "sent" and r.in_reply_to_external_id) >= len(replies) // 2


def _unsent(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count())
                .select_from(outbox_t)
                .where(outbox_t.c.status == "queued", outbox_t.c.kind != "dm")
            ).scalar_one()
        )
