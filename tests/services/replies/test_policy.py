"""The platform's rules through the services (services/replies/policy.py, native.py, the outbox, ingest
opt-outs), on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.connectors.base import FetchedPage
from flockdesk.domain.errors import PolicyRefused
from flockdesk.domain.types import Author, InboundItem, Page, SendResult
from flockdesk.services.ingest.ingestor import Ingestor
from flockdesk.services.ingest.opt_outs import ACK_TEXT
from flockdesk.services.replies import compose as replies
from flockdesk.services.replies import native
from flockdesk.services.replies import outbox as sender
from flockdesk.store.schema import contacts, conversations, messages, outbox
from tests.services.seed import BRAND_ID, account, contact, conversation, message, user

_ids = itertools.count(8_100_000)


class FakeX:
    """Records every API call; `own` is what the account's own timeline returns."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, str | None]] = []
        self.dms: list[tuple[str, str]] = []
        self.own: list[InboundItem] = []

    def send_post(self, text: str, *, in_reply_to: str | None = None) -> SendResult:
        self.posts.append((text, in_reply_to))
        return SendResult(external_id=str(next(_ids)))

    def send_dm(self, recipient_id: str, text: str) -> SendResult:
        self.dms.append((recipient_id, text))
        return SendResult(external_id=str(next(_ids)))

    def fetch_own_posts(
        self, user_id: str, *, since: datetime | None = None, pagination_token: str | None = None
    ) -> FetchedPage:
        return FetchedPage(Page(items=list(self.own)))


def _own_post(text: str, in_reply_to: str, thread: str) -> InboundItem:
    return InboundItem(
        platform="x",
        external_id=str(next(_ids)),
        kind="post",
        thread_kind="public",
        thread_id=thread,
        channel="mention",
        author_id=BRAND_ID,
        text=text,
        created_at=datetime.now(UTC),
        author=Author(platform="x", external_id=BRAND_ID),
        in_reply_to_external_id=in_reply_to,
    )


def _dm_item(sender_id: str, text: str, *, at: datetime | None = None) -> InboundItem:
    return InboundItem(
        platform="x",
        external_id=str(next(_ids)),
        kind="dm",
        thread_kind="dm",
        thread_id=f"{BRAND_ID}-{sender_id}",
        channel="dm",
        author_id=sender_id,
        text=text,
        created_at=at or datetime.now(UTC),
        author=Author(platform="x", external_id=sender_id, username=f"u{sender_id}"),
    )


@pytest.fixture
def world(engine: Engine) -> dict[str, Any]:
    ids: dict[str, Any] = {"agent": user(engine, "alice"), "account": account(engine)}
    ids["jane"] = contact(engine, external_id="123", username="jane")
    # a listening hit: a hashtag post that does not tag the brand
    ids["listening"] = conversation(engine, ids["account"], ids["jane"], channel="search")
    ids["listening_msg"] = message(
        engine,
        ids["listening"],
        "#acme flights are late again",
        kind="search",
        contact_id=ids["jane"],
        mentions_account=False,
    )
    ids["mention"] = conversation(engine, ids["account"], ids["jane"], channel="mention")
    message(engine, ids["mention"], "@acmecare my bag is lost", contact_id=ids["jane"], mentions_account=True)
    return ids


def _ext(engine: Engine, message_id: int) -> str:
    with engine.connect() as conn:
        return str(
            conn.execute(sa.select(messages.c.external_id).where(messages.c.id == message_id)).scalar()
        )


def _outbox(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(outbox).order_by(outbox.c.id)))


def test_a_reply_to_a_listening_post_is_refused_up_front_with_the_reply_on_x_link(
    engine: Engine, world: dict[str, Any]
) -> None:
    with pytest.raises(PolicyRefused) as exc:
        replies.queue_reply(engine, world["listening"], world["agent"], "So sorry, we can help")
    assert exc.value.verdict == "needs_person" and exc.value.reason == "not_summoned"
    assert exc.value.native_link is not None
    assert f"in_reply_to={_ext(engine, world['listening_msg'])}" in exc.value.native_link
    assert _outbox(engine) == []  # nothing queued, so nothing can fail with X's 403 and a useless Retry
    assert replies.queue_reply(engine, world["mention"], world["agent"], "On it!").status == "queued"


def test_reply_on_x_is_drafted_never_sent_by_the_api_and_attached_when_it_comes_back(
    engine: Engine, world: dict[str, Any]
) -> None:
    fake = FakeX()
    draft = native.draft_native_reply(engine, world["listening"], world["agent"], "So sorry, DM us")
    assert (draft.row.kind, draft.row.status) == ("native_reply", "awaiting_native")
    assert draft.link.startswith("https://x.com/intent/post?in_reply_to=")
    sender.send_pending(engine, lambda _a: fake)
    assert fake.posts == [] and fake.dms == []
    assert native.match_pending(engine, lambda _a: fake) == 0  # not confirmed yet: nothing is read
    native.confirm_native(engine, draft.row.id, world["agent"])
    target = _ext(engine, world["listening_msg"])
    fake.own = [
        _own_post("something else entirely", "999", "999"),
        _own_post("@jane So sorry, DM us", target, target),
    ]
    assert native.match_pending(engine, lambda _a: fake) == 1
    row = replies.get_outbox(engine, draft.row.id)
    assert row.status == "sent" and row.external_id == fake.own[1].external_id
    with engine.connect() as conn:
        out = conn.execute(
            sa.select(messages).where(
                messages.c.conversation_id == world["listening"], messages.c.direction == "out"
            )
        ).all()
    assert [(m.external_id, m.outbox_id) for m in out] == [(fake.own[1].external_id, draft.row.id)]
    assert fake.posts == []


def test_a_native_reply_edited_on_x_still_matches_when_it_is_the_only_answer(
    engine: Engine, world: dict[str, Any]
) -> None:
    draft = native.draft_native_reply(engine, world["listening"], world["agent"], "So sorry, DM us")
    native.confirm_native(engine, draft.row.id, world["agent"])
    target = _ext(engine, world["listening_msg"])
    fake = FakeX()
    fake.own = [_own_post("So sorry!! Please DM us", target, target)]
    assert native.match_pending(engine, lambda _a: fake) == 1


def test_the_native_reply_echo_through_ingest_is_attached(engine: Engine, world: dict[str, Any]) -> None:
    draft = native.draft_native_reply(engine, world["listening"], world["agent"], "We hear you")
    target = _ext(engine, world["listening_msg"])
    with engine.connect() as conn:
        thread = conn.execute(
            sa.select(conversations.c.external_thread_id).where(conversations.c.id == world["listening"])
        ).scalar()
    echo = _own_post("We hear you", target, str(thread))
    Ingestor(engine).ingest_page(world["account"], [echo])
    row = replies.get_outbox(engine, draft.row.id)
    assert (row.status, row.external_id) == ("sent", echo.external_id)


def test_move_to_dm_on_a_listening_post_drafts_the_acknowledgement_for_a_person(
    engine: Engine, world: dict[str, Any]
) -> None:
    fake = FakeX()
    moved = replies.move_to_dm(engine, world["listening"], world["agent"])
    assert (moved.ack.kind, moved.ack.status) == ("native_reply", "awaiting_native")
    sender.send_pending(engine, lambda _a: fake)
    assert fake.posts == []
    on_mention = replies.move_to_dm(engine, world["mention"], world["agent"])
    assert on_mention.ack.kind == "public_ack"


def test_a_dm_only_after_the_customer_dmed_first(engine: Engine, world: dict[str, Any]) -> None:
    moved = replies.move_to_dm(engine, world["mention"], world["agent"])
    with pytest.raises(PolicyRefused) as exc:
        replies.queue_reply(engine, moved.dm_conversation_id, world["agent"], "Hi Jane, how can we help?")
    assert exc.value.reason == "dm_not_started"
    assert exc.value.native_link == (
        "https://x.com/messages/compose?recipient_id=123&text=Hi+Jane%2C+how+can+we+help%3F"
    )
    with pytest.raises(PolicyRefused):
        replies.move_to_dm(engine, world["listening"], world["agent"], dm_text="Hi Jane")
    Ingestor(engine).ingest_page(world["account"], [_dm_item("123", "hi, here is my booking ref")])
    assert replies.queue_reply(engine, moved.dm_conversation_id, world["agent"], "Thanks!").status == "queued"


def test_the_outbox_refuses_a_queued_reply_to_a_post_that_did_not_summon_the_account(
    engine: Engine, world: dict[str, Any]
) -> None:
    fake = FakeX()
    oid = sender.enqueue(
        engine,
        account_id=world["account"],
        kind="reply",
        text="hello",
        conversation_id=world["listening"],
        in_reply_to=_ext(engine, world["listening_msg"]),
        created_by=world["agent"],
    )
    sender.send_pending(engine, lambda _a: fake)
    row = replies.get_outbox(engine, oid)
    assert row.status == "failed" and row.error and "rules" in row.error
    assert fake.posts == []
    with pytest.raises(PolicyRefused) as exc:
        replies.retry(engine, oid, world["agent"])
    assert exc.value.native_link is not None


def _contact_row(engine: Engine, external_id: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(sa.select(contacts).where(contacts.c.external_id == external_id)).one()


def test_an_opt_out_is_recorded_for_good_and_acknowledged_once(engine: Engine, world: dict[str, Any]) -> None:
    fake = FakeX()
    ingest = Ingestor(engine)
    ingest.ingest_page(world["account"], [_dm_item("555", "hi, is my flight on time?")])
    with engine.connect() as conn:
        dm_conv = conn.execute(
            sa.select(conversations.c.id).where(conversations.c.external_thread_id == f"{BRAND_ID}-555")
        ).scalar_one()
    assert replies.queue_reply(engine, dm_conv, world["agent"], "Yes, it is!").status == "queued"
    stop = _dm_item("555", "STOP")
    ingest.ingest_page(world["account"], [stop])
    ingest.ingest_page(world["account"], [stop, _dm_item("555", "Bitte abmelden")])  # replay + a second one
    person = _contact_row(engine, "555")
    assert person.opted_out_at is not None and "STOP" in person.opted_out_reason
    acks = [r for r in _outbox(engine) if r.origin == "automated"]
    assert [(r.kind, r.text, r.recipient_external_id) for r in acks] == [("dm", ACK_TEXT, "555")]
    sender.send_pending(engine, lambda _a: fake)
    assert ("555", ACK_TEXT) in fake.dms
    with pytest.raises(PolicyRefused) as exc:
        replies.queue_reply(engine, dm_conv, world["agent"], "One more thing: our new offers")
    assert exc.value.reason == "opted_out"
    # they write again: answering their own new message is allowed; the opt-out stays
    ingest.ingest_page(
        world["account"],
        [_dm_item("555", "actually, where is my bag?", at=datetime.now(UTC) + timedelta(seconds=5))],
    )
    assert replies.queue_reply(engine, dm_conv, world["agent"], "Let me check").status == "queued"
    assert _contact_row(engine, "555").opted_out_at is not None


def test_an_old_opt_out_from_a_backfill_is_recorded_but_not_acknowledged(
    engine: Engine, world: dict[str, Any]
) -> None:
    old = datetime.now(UTC) - timedelta(days=30)
    Ingestor(engine).ingest_page(world["account"], [_dm_item("556", "unsubscribe", at=old)])
    assert _contact_row(engine, "556").opted_out_at is not None
    assert [r for r in _outbox(engine) if r.origin == "automated"] == []


def test_a_dm_that_only_contains_stop_in_a_sentence_is_not_an_opt_out(
    engine: Engine, world: dict[str, Any]
) -> None:
    Ingestor(engine).ingest_page(world["account"], [_dm_item("557", "don't stop the music on board please")])
    assert _contact_row(engine, "557").opted_out_at is None


def test_the_composer_decision_says_why(engine: Engine, world: dict[str, Any]) -> None:
    d = native.composer_decision(engine, world["listening"])
    assert d is not None and d.verdict == "needs_person" and "mention the account" in d.message
    ok = native.composer_decision(engine, world["mention"])
    assert ok is not None and ok.allowed


def test_dms_wait_for_the_dm_quota_while_posts_go_on(engine: Engine, world: dict[str, Any]) -> None:
    """Opt-out acknowledgements can come in bulk; the sender keeps them queued while the pacer says
    the DM quota is spent, and public replies are not held up behind them."""
    fake = FakeX()
    Ingestor(engine).ingest_page(world["account"], [_dm_item("558", "STOP")])
    reply = replies.queue_reply(engine, world["mention"], world["agent"], "On it!")
    report = sender.send_pending(
        engine, lambda _a: fake, wait_s=lambda _a, endpoint: 60.0 if endpoint == "dm_create" else 0.0
    )
    assert fake.dms == [] and len(fake.posts) == 1
    assert report.requeued == 1
    assert replies.get_outbox(engine, reply.id).status == "sent"
    ack = next(r for r in _outbox(engine) if r.origin == "automated")
    assert (ack.status, ack.attempts) == ("queued", 0)
    sender.send_pending(engine, lambda _a: fake, wait_s=lambda _a, _e: 0.0)
    assert fake.dms == [("558", ACK_TEXT)]
