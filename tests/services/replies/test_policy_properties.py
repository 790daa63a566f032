"""Property (issue 8): whatever agents and automations do (replies, moves to DM, native drafts, retries,
opt-outs arriving, the outbox running), no public reply is ever sent through the API to a post that
did not summon the account, and no DM through the API to someone who has not DMed first or who has
opted out (other than the one acknowledgement of the opt-out, and answers to what they wrote since)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from flockdesk.domain.errors import Conflict, InvalidInput, NotFound
from flockdesk.domain.opt_out import is_opt_out
from flockdesk.domain.types import Author, InboundItem, SendResult
from flockdesk.services.ingest.ingestor import Ingestor
from flockdesk.services.replies import compose as replies
from flockdesk.services.replies import native
from flockdesk.services.replies import outbox as sender
from flockdesk.store.schema import accounts, messages, outbox
from tests.services.seed import account, contact, conversation, message, user

_ext = itertools.count(9_300_000)
TEXTS = ["Thanks, we are on it", "Sorry about that", "Please DM us", "All sorted now"]
DM_TEXTS = ["hi, where is my bag?", "STOP", "unsubscribe", "don't stop the music", "thanks!"]

action_st = st.one_of(
    st.tuples(st.just("reply"), st.integers(0, 5), st.sampled_from(TEXTS)),
    st.tuples(st.just("native"), st.integers(0, 3), st.sampled_from(TEXTS)),
    st.tuples(st.just("move"), st.integers(0, 3), st.one_of(st.none(), st.sampled_from(TEXTS))),
    st.tuples(st.just("customer_dm"), st.integers(0, 1), st.sampled_from(DM_TEXTS)),
    st.tuples(st.just("automated_reply"), st.integers(0, 5), st.sampled_from(TEXTS)),
    st.tuples(st.just("send"), st.just(0), st.just("")),
    st.tuples(st.just("retry"), st.integers(0, 20), st.just("")),
)


class FakeX:
    def __init__(self) -> None:
        self.posts: list[tuple[str, str | None]] = []
        self.dms: list[tuple[str, str]] = []
        self.clock = datetime.now(UTC)

    def send_post(self, text: str, *, in_reply_to: str | None = None) -> SendResult:
        self.posts.append((text, in_reply_to))
        return SendResult(external_id=str(next(_ext)))

    def send_dm(self, recipient_id: str, text: str) -> SendResult:
        self.dms.append((recipient_id, text))
        return SendResult(external_id=str(next(_ext)))


def _setup(engine: Engine) -> dict[str, Any]:
    n = next(_ext)
    brand = f"8{n}"
    acct = account(engine, external_user_id=brand)
    with engine.begin() as conn:
        handle = conn.execute(sa.select(accounts.c.username).where(accounts.c.id == acct)).scalar()
    world: dict[str, Any] = {"agent": user(engine, f"agent{n}"), "account": acct, "brand": brand}
    people = [str(n * 10 + i) for i in range(2)]
    world["people"] = people
    public: list[int] = []
    summoning: dict[str, bool] = {}
    for i, pid in enumerate(people):
        ct = contact(engine, external_id=pid, username=f"p{pid}")
        # per person: a post that tags the brand, one that does not (a listening hit), one legacy row
        # stored before the flag existed that names the brand in its text
        for text, kind, flag in (
            (f"@{handle} help please {i}", "mention", True),
            (f"#brand is late again {i}", "search", False),
            (f"thanks @{handle}!", "reply", None),
        ):
            conv = conversation(engine, acct, ct, channel="mention" if kind != "search" else "search")
            mid = message(engine, conv, text, kind=kind, contact_id=ct, mentions_account=flag)
            with engine.connect() as conn:
                ext = str(
                    conn.execute(sa.select(messages.c.external_id).where(messages.c.id == mid)).scalar()
                )
            summoning[ext] = flag is not False
            public.append(conv)
    world["public"] = public
    world["summoning"] = summoning
    return world


def _customer_dm(engine: Engine, world: dict[str, Any], who: int, text: str, at: datetime) -> None:
    pid = world["people"][who]
    item = InboundItem(
        platform="x",
        external_id=str(next(_ext)),
        kind="dm",
        thread_kind="dm",
        thread_id=f"{world['brand']}-{pid}",
        channel="dm",
        author_id=pid,
        text=text,
        created_at=at,
        author=Author(platform="x", external_id=pid, username=f"p{pid}"),
    )
    Ingestor(engine).ingest_page(world["account"], [item])
    world.setdefault("dm_log", []).append((at, pid, text))


def _dm_convs(engine: Engine, world: dict[str, Any]) -> list[int]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                sa.text("select id from conversations where account_id = :a and kind = 'dm' order by id"),
                {"a": world["account"]},
            ).scalars()
        )


def _run(engine: Engine, actions: list[tuple[str, int, Any]]) -> None:
    world = _setup(engine)
    fake = FakeX()
    sends: list[tuple[datetime, str, str, str | None]] = []  # (time, kind, text, target)
    clock = [datetime.now(UTC)]  # the test's own time: customers' DMs and sends are ordered on it

    def send() -> None:
        before_posts, before_dms = len(fake.posts), len(fake.dms)
        sender.send_pending(engine, lambda _a: fake, limit=100)
        now = clock[0]
        for text, target in fake.posts[before_posts:]:
            sends.append((now, "post", text, target))
        for pid, text in fake.dms[before_dms:]:
            sends.append((now, "dm", text, pid))

    for kind, idx, text in actions:
        clock[0] += timedelta(seconds=1)
        try:
            targets = world["public"] + _dm_convs(engine, world)
            if kind == "reply":
                replies.queue_reply(engine, targets[idx % len(targets)], world["agent"], text)
            elif kind == "native":
                draft = native.draft_native_reply(engine, world["public"][idx], world["agent"], text)
                native.confirm_native(engine, draft.row.id, world["agent"])
            elif kind == "move":
                replies.move_to_dm(engine, world["public"][idx], world["agent"], dm_text=text)
            elif kind == "customer_dm":
                _customer_dm(engine, world, idx, text, clock[0])
            elif kind == "automated_reply":
                with engine.connect() as conn:
                    latest = conn.execute(
                        sa.select(messages.c.external_id)
                        .where(messages.c.conversation_id == targets[idx % len(targets)])
                        .order_by(messages.c.id.desc())
                    ).scalar()
                sender.enqueue(
                    engine,
                    account_id=world["account"],
                    kind="reply",
                    text=text,
                    conversation_id=targets[idx % len(targets)],
                    in_reply_to=latest,
                    origin="automated",
                )
            elif kind == "send":
                send()
            else:
                with engine.connect() as conn:
                    failed = (
                        conn.execute(
                            sa.select(outbox.c.id)
                            .where(outbox.c.account_id == world["account"], outbox.c.status == "failed")
                            .order_by(outbox.c.id)
                        )
                        .scalars()
                        .all()
                    )
                if failed:
                    replies.retry(engine, failed[idx % len(failed)], world["agent"])
        except (InvalidInput, Conflict, NotFound):
            pass  # a refusal is an allowed outcome
    send()

    # no public post through the API to a post that did not summon the account
    for _, what, _text, target in sends:
        if what == "post":
            assert target in world["summoning"] and world["summoning"][target], (
                f"unsummoned reply to {target}"
            )
    # no DM through the API to someone who had not DMed first, or who opted out (bar its one
    # acknowledgement, and answers after they wrote again)
    log = world.get("dm_log", [])
    acks: dict[str, int] = {}
    for sent_at, what, text, pid in sends:
        if what != "dm":
            continue
        theirs = [(t, x) for t, p, x in log if p == pid and t <= sent_at]
        assert theirs, f"DM to {pid}, who never DMed the account"
        opt_at = min((t for t, x in theirs if is_opt_out(x)), default=None)
        if opt_at is None or sent_at < opt_at:
            continue
        if text.startswith("You're unsubscribed"):
            acks[pid] = acks.get(pid, 0) + 1
            continue
        assert any(opt_at < t <= sent_at and not is_opt_out(x) for t, x in theirs), (
            f"DM to {pid} after opting out"
        )
    assert all(n == 1 for n in acks.values())
    # native replies never reached the API
    assert all(r.attempts == 0 and r.status == "awaiting_native" for r in _rows(engine, "native_reply"))


def _rows(engine: Engine, kind: str) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(outbox).where(outbox.c.kind == kind)))


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(actions=st.lists(action_st, min_size=1, max_size=12))
# a DM sent before the customer opted out is not a DM after it
@example(
    actions=[
        ("customer_dm", 0, "hi, where is my bag?"),
        ("move", 0, "Thanks, we are on it"),
        ("send", 0, ""),
        ("customer_dm", 0, "STOP"),
    ]
)
def test_no_unsummoned_reply_and_no_unasked_dm_through_the_api(engine: Engine, actions: list[Any]) -> None:
    _run(engine, actions)
