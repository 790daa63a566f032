"""Property: whatever mix of replies, DMs, crashes mid-send, reconciles and retries, no outbox row is
sent twice and each kind goes only through its own API (invariants 1 and 4)."""

from __future__ import annotations

import contextlib
from collections import Counter
from datetime import timedelta

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from flockdesk.connectors.base import PlatformRejected, TransientError
from flockdesk.domain.errors import Conflict
from flockdesk.domain.types import SendResult
from flockdesk.domain.utc import utcnow
from flockdesk.services.replies import outbox
from flockdesk.store.schema import accounts, conversations, messages
from flockdesk.store.schema import outbox as outbox_t
from tests.rows import add_account_row, add_conversation_row


class Recorder:
    def __init__(self) -> None:
        self.posts: list[str] = []
        self.dms: list[str] = []
        self.fail_next: Exception | None = None

    def _maybe_fail(self) -> None:
        if self.fail_next is not None:
            exc, self.fail_next = self.fail_next, None
            raise exc

    def send_post(self, text: str, *, in_reply_to: str | None = None) -> SendResult:
        self._maybe_fail()
        self.posts.append(text)
        return SendResult(external_id=f"p{len(self.posts)}")

    def send_dm(self, recipient_id: str, text: str) -> SendResult:
        self._maybe_fail()
        self.dms.append(text)
        return SendResult(external_id=f"d{len(self.dms)}")


OPS = st.lists(
    st.sampled_from(["reply", "dm", "send", "crash_mid_send", "timeout", "rejected", "reconcile", "retry"]),
    min_size=1,
    max_size=25,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_no_row_is_sent_twice_and_dms_never_go_public(sqlite_engine: Engine, ops: list[str]) -> None:
    engine = sqlite_engine
    with engine.begin() as conn:
        for table in (messages, outbox_t, conversations):
            conn.execute(table.delete())
    account = (
        add_account_row(engine, ext_id=f"acc{len(ops)}{ops[0]}") if not _account(engine) else _account(engine)
    )
    public = add_conversation_row(engine, account, "public", f"t{utcnow().timestamp()}")
    private = add_conversation_row(engine, account, "dm", f"1000-{int(utcnow().timestamp() * 1e6)}")
    rec = Recorder()
    for n, op in enumerate(ops, 1):
        if op == "reply":
            outbox.enqueue(
                engine,
                account_id=account,
                kind="reply",
                text=f"public {n}",
                conversation_id=public,
                in_reply_to="1",
            )
        elif op == "dm":
            outbox.enqueue(
                engine,
                account_id=account,
                kind="dm",
                text=f"private {n}",
                conversation_id=private,
                recipient="2000",
            )
        elif op == "crash_mid_send":
            outbox.claim_next(engine)  # claimed, then the worker dies
        elif op in ("timeout", "rejected"):
            rec.fail_next = (
                TransientError("timeout") if op == "timeout" else PlatformRejected(403, "403 Forbidden")
            )
            outbox.send_pending(engine, lambda _a: rec, limit=1)
        elif op == "reconcile":
            outbox.reconcile_interrupted(engine, grace_s=60, now=utcnow() + timedelta(seconds=120))
        elif op == "retry":
            with engine.connect() as conn:
                failed = (
                    conn.execute(sa.select(outbox_t.c.id).where(outbox_t.c.status == "failed"))
                    .scalars()
                    .first()
                )
            if failed is not None:
                with contextlib.suppress(Conflict):  # an attempt is already live
                    outbox.retry(engine, failed)
        else:
            outbox.send_pending(engine, lambda _a: rec)
    assert all(t.startswith("public") for t in rec.posts), "a DM went out in public"
    assert all(t.startswith("private") for t in rec.dms), "a public reply went out as a DM"
    with engine.connect() as conn:
        rows = conn.execute(sa.select(outbox_t.c.id, outbox_t.c.idempotency_key, outbox_t.c.status)).all()
    sent_rows = [r for r in rows if r.status == "sent"]
    assert len(sent_rows) == len(rec.posts) + len(rec.dms)  # every platform send is recorded, once
    # one attempt row = at most one send: texts repeat only through explicit retries (new rows)
    attempts = Counter(r.idempotency_key.split("#retry")[0] for r in sent_rows)
    assert all(c == 1 for c in attempts.values()), "the same message was sent by two attempts"


def _account(engine: Engine) -> int | None:
    with engine.connect() as conn:
        return conn.execute(sa.select(accounts.c.id)).scalars().first()
