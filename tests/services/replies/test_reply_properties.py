"""Property: whatever an agent does (replies, DMs, moves to DM, retries), then the outbox sender and
echo replays run, no DM text is ever posted publicly and no message is sent twice.

"DM text" is what services/replies/checks.py protects: every contact's own DMs, every DM the team
queued to the same contact, and every DM the team queued to anyone that carries personal data. A
stock phrase the team DM'd to one customer stays usable in public for another
(tests/services/test_replies.py)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from flockdesk.connectors.base import ConnectorError
from flockdesk.domain.errors import Conflict, InvalidInput
from flockdesk.domain.types import Author, InboundItem, SendResult
from flockdesk.services.ingest.ingestor import Ingestor
from flockdesk.services.replies import compose as replies
from flockdesk.services.replies import outbox as sender
from flockdesk.store.schema import conversations, messages, outbox
from tests.services.seed import BRAND_ID, account, contact, conversation, message, user

_ext = itertools.count(7_000_000)
SECRETS = [
    "my email is jane at example dot com and my phone is 555 0100",
    "order 88231 was charged twice on my visa card",
    "the address is 12 Elm Street Springfield",
]
PHRASES = [
    "thanks for your patience",
    "we are on it",
    "sorry about the delay",
    "please check your inbox",
    "order 88231 was charged twice",
    "12 Elm Street Springfield",
    "all sorted now",
]
# the personal data in SECRETS and PHRASES: a DM that contains one of these is private to anyone
PERSONAL = [*SECRETS, "order 88231 was charged twice", "12 Elm Street Springfield"]
text_st = st.one_of(
    st.sampled_from(SECRETS),  # the contacts' own DM texts, pasted as they are
    st.lists(st.sampled_from(PHRASES + SECRETS), min_size=1, max_size=3).map(" ".join),
)
action_st = st.one_of(
    st.tuples(st.just("reply"), st.integers(0, 3), text_st, st.booleans()),
    st.tuples(st.just("move"), st.integers(0, 1), st.one_of(st.none(), text_st), st.booleans()),
    st.tuples(st.just("send"), st.integers(0, 2), st.just(""), st.booleans()),
    st.tuples(st.just("retry"), st.integers(0, 20), st.just(""), st.booleans()),
)


class FakeX:
    """Records every platform call; fails every third call with a platform error."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, str | None]] = []
        self.dms: list[tuple[str, str]] = []
        self.calls = 0

    def _result(self) -> SendResult:
        self.calls += 1
        if self.calls % 3 == 0:
            raise ConnectorError("403 You are not allowed to create a Tweet with duplicate content.")
        return SendResult(external_id=str(next(_ext)))

    def send_post(self, text: str, in_reply_to: str | None = None) -> SendResult:
        self.posts.append((text, in_reply_to))
        return self._result()

    def send_dm(self, recipient: str, text: str) -> SendResult:
        self.dms.append((recipient, text))
        return self._result()


def _words(text: str) -> str:
    return " ".join("".join(ch if ch.isalnum() else " " for ch in text.lower()).split())


def _personal(text: str) -> bool:
    return any(f" {_words(p)} " in f" {_words(text)} " for p in PERSONAL)


def _setup(engine: Engine) -> dict[str, Any]:
    n = next(_ext)
    agent = user(engine, f"agent{n}")
    acct = account(engine, external_user_id=BRAND_ID if n == 7_000_000 else f"9{n}")
    convs: list[int] = []
    dm_convs: list[int] = []
    contact_ids: dict[int, str] = {}
    for i in range(2):
        ct_id = str(100 + n * 10 + i)
        ct = contact(engine, external_id=ct_id, username=f"c{n}_{i}")
        pub = conversation(engine, acct, ct)
        contact_ids[pub] = ct_id
        message(engine, pub, f"@acme help please {i}", contact_id=ct)
        dm = conversation(engine, acct, ct, kind="dm")
        message(engine, dm, SECRETS[i], kind="dm", contact_id=ct)
        convs.append(pub)
        dm_convs.append(dm)
    return {
        "agent": agent,
        "account": acct,
        "targets": convs + dm_convs,
        "public": convs,
        "contact_ids": contact_ids,
    }


def _send(engine: Engine, fake: FakeX) -> None:
    sender.send_pending(engine, lambda _account_id: fake, limit=100)


def _echo(engine: Engine, acct: int, rows: list[Any]) -> None:
    """Replay the platform's echo of every sent row, twice."""
    with engine.connect() as conn:
        threads = dict(conn.execute(sa.select(conversations.c.id, conversations.c.external_thread_id)).all())
        brand = conn.execute(
            sa.text("select external_user_id from accounts where id = :a"), {"a": acct}
        ).scalar()
    items = [
        InboundItem(
            platform="x",
            external_id=r.external_id,
            kind="dm" if r.kind == "dm" else "post",
            thread_kind="dm" if r.kind == "dm" else "public",
            thread_id=threads[r.conversation_id],
            channel="dm" if r.kind == "dm" else "mention",
            author_id=str(brand),
            text=r.text,
            created_at=datetime.now(UTC),
            author=Author(platform="x", external_id=str(brand)),
            in_reply_to_external_id=r.in_reply_to_external_id,
            recipient_id=r.recipient_external_id,
        )
        for r in rows
        if r.status == "sent"
    ]
    for _ in range(2):
        Ingestor(engine).ingest_page(acct, items)


def _run(engine: Engine, actions: list[tuple[str, int, Any, bool]]) -> None:
    world = _setup(engine)
    fake = FakeX()
    with engine.connect() as conn:
        start = conn.execute(sa.select(sa.func.coalesce(sa.func.max(outbox.c.id), 0))).scalar_one()
    for kind, idx, text, flag in actions:
        try:
            if kind == "reply":
                replies.queue_reply(engine, world["targets"][idx], world["agent"], text, override_guard=flag)
            elif kind == "move":
                replies.move_to_dm(
                    engine, world["public"][idx], world["agent"], dm_text=text, override_guard=flag
                )
            elif kind == "send":
                _send(engine, fake)
            else:
                with engine.connect() as conn:
                    failed = (
                        conn.execute(
                            sa.select(outbox.c.id)
                            .where(outbox.c.id > start, outbox.c.status == "failed")
                            .order_by(outbox.c.id)
                        )
                        .scalars()
                        .all()
                    )
                if failed:
                    replies.retry(engine, failed[idx % len(failed)], world["agent"])
        except (InvalidInput, Conflict):
            pass  # a refusal (guard, DM leak, length, double retry) is an allowed outcome
    _send(engine, fake)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(outbox).where(outbox.c.id > start).order_by(outbox.c.id)).all()
    _echo(engine, world["account"], rows)

    # no DM text ever went out through the post API: neither the contacts' DMs, nor a DM queued
    # earlier to the same contact, nor one queued earlier to anyone that carries personal data
    posted = [r for r in rows if r.kind != "dm" and r.attempts > 0]
    assert sorted(t for t, _ in fake.posts) == sorted(r.text for r in posted)
    for p in posted:
        earlier = SECRETS[:2] + [
            r.text
            for r in rows
            if r.kind == "dm"
            and r.id < p.id
            and (r.recipient_external_id == world["contact_ids"][p.conversation_id] or _personal(r.text))
        ]
        for dm in earlier:
            d = _words(dm)
            assert len(d.split()) < 4 or f" {d} " not in f" {_words(p.text)} ", f"DM text posted: {p.text!r}"
    # public rows only in public conversations, DMs only in DM conversations, to their contact
    kinds = dict(zip(world["targets"], ["public", "public", "dm", "dm"], strict=True))
    for r in rows:
        conv_kind = kinds.get(r.conversation_id, "dm")  # a DM conversation opened by move to DM
        assert (r.kind == "dm") == (conv_kind == "dm")
    # each row reached the platform at most once, and every call belongs to one row
    assert all(r.attempts <= 1 for r in rows)
    assert len(fake.posts) + len(fake.dms) == sum(r.attempts for r in rows)
    # echo replays did not duplicate the stored outbound messages
    with engine.connect() as conn:
        per_row = conn.execute(
            sa.select(messages.c.outbox_id, sa.func.count())
            .where(messages.c.outbox_id > start)
            .group_by(messages.c.outbox_id)
        ).all()
    assert all(count == 1 for _, count in per_row)
    assert {oid for oid, _ in per_row} == {r.id for r in rows if r.status == "sent"}


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(actions=st.lists(action_st, min_size=1, max_size=8))
# a DM queued by move to DM, then the same text in another customer's thread with the guard overridden
@example(actions=[("move", 0, SECRETS[2], False), ("reply", 1, SECRETS[2], True)])
# a stock phrase DM'd to one customer, then used in public for another
@example(
    actions=[("reply", 2, "thanks for your patience", False), ("reply", 1, "thanks for your patience", False)]
)
def test_no_dm_text_in_public_and_nothing_sent_twice(engine: Engine, actions: list[Any]) -> None:
    _run(engine, actions)
