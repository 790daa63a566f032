from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.domain.errors import Conflict, GuardFlagged, InvalidInput, ReplyRefused
from flockdesk.services.conversations import actions as conversations
from flockdesk.services.replies import compose as replies
from flockdesk.services.replies import outbox as outbox_svc
from flockdesk.services.team import audit
from flockdesk.store.schema import conversations as conv_t
from flockdesk.store.schema import outbox
from tests.services.seed import BRAND_ID, contact, conversation, message, world


def _fail(engine: Engine, outbox_id: int, error: str = "403 duplicate content") -> None:
    with engine.begin() as conn:
        conn.execute(outbox.update().where(outbox.c.id == outbox_id).values(status="failed", error=error))


def test_public_conversation_gets_a_reply_to_the_latest_inbound_post(engine: Engine) -> None:
    ids = world(engine)
    later = message(engine, ids["public"], "hello?", contact_id=ids["contact"])
    row = replies.queue_reply(engine, ids["public"], ids["agent"], "We're looking into it now")
    with engine.connect() as conn:
        ext = conn.execute(sa.text("select external_id from messages where id = :i"), {"i": later}).scalar()
    assert (row.kind, row.status, row.in_reply_to_external_id, row.recipient_external_id) == (
        "reply",
        "queued",
        ext,
        None,
    )
    assert audit.list_events(engine, action="reply.queue")[0].target_id == str(row.id)


def test_dm_conversation_gets_a_dm_to_the_contact(engine: Engine) -> None:
    ids = world(engine)
    row = replies.queue_reply(engine, ids["dm"], ids["agent"], "Thanks, we've fixed the address")
    assert (row.kind, row.recipient_external_id, row.in_reply_to_external_id) == ("dm", "123", None)


def test_length_limits_per_kind(engine: Engine) -> None:
    ids = world(engine)
    with pytest.raises(ReplyRefused) as exc:
        replies.queue_reply(engine, ids["public"], ids["agent"], "x" * 281)
    assert exc.value.reason == "too_long"
    assert replies.queue_reply(engine, ids["dm"], ids["agent"], "x" * 5000).kind == "dm"
    with pytest.raises(ReplyRefused, match="10000"):
        replies.queue_reply(engine, ids["dm"], ids["agent"], "x" * 10_001)


def test_guard_refuses_flagged_public_reply_unless_overridden_and_audited(engine: Engine) -> None:
    ids = world(engine)
    text = "Please reply with your email address and phone number so we can check"
    with pytest.raises(GuardFlagged) as exc:
        replies.queue_reply(engine, ids["public"], ids["agent"], text)
    assert exc.value.check.asks_for_sensitive and exc.value.advice
    row = replies.queue_reply(engine, ids["public"], ids["agent"], text, override_guard=True)
    event = audit.list_events(engine, action="reply.guard_override")[0]
    assert event.target_id == str(row.id) and event.actor == "alice"
    ok = replies.queue_reply(
        engine, ids["public"], ids["agent"], "Please send us a DM with your order number"
    )
    assert ok.kind == "reply"


def test_dm_text_is_never_queued_in_public(engine: Engine) -> None:
    ids = world(engine)
    with pytest.raises(ReplyRefused) as exc:
        replies.queue_reply(
            engine,
            ids["public"],
            ids["agent"],
            "Noted: my address is 12 Elm Street Springfield please fix",
            override_guard=True,
        )
    assert exc.value.reason == "dm_text_in_public"
    replies.queue_reply(
        engine, ids["dm"], ids["agent"], "your refund of the duplicate charge is approved today"
    )
    with pytest.raises(ReplyRefused, match="private DM"):
        replies.queue_reply(
            engine,
            ids["public"],
            ids["agent"],
            "Update: your refund of the duplicate charge is approved today!",
        )


def test_another_contacts_private_dm_is_refused_but_a_stock_phrase_the_team_dmd_is_not(
    engine: Engine,
) -> None:
    ids = world(engine)
    other = contact(engine, external_id="456", username="omar", name="Omar")
    other_dm = conversation(engine, ids["account"], other, kind="dm", external_thread_id="456-900")
    message(
        engine, other_dm, "my card ending 4242 was charged twice for order 99812", kind="dm", contact_id=other
    )
    stock = "Thanks for letting us know, we are looking into it right now"
    replies.queue_reply(engine, other_dm, ids["agent"], stock)
    # what Omar wrote in private never goes out in Jane's public thread ...
    with pytest.raises(ReplyRefused) as exc:
        replies.queue_reply(
            engine, ids["public"], ids["agent"], "re: my card ending 4242 was charged twice for order 99812"
        )
    assert exc.value.reason == "dm_text_in_public"
    # ... but the team's own stock phrase, once DM'd to Omar, stays usable in public for Jane
    row = replies.queue_reply(engine, ids["public"], ids["agent"], stock)
    assert row.kind == "reply" and row.text == stock


def test_a_dm_the_team_sent_with_personal_data_never_goes_public_for_another_customer(
    engine: Engine,
) -> None:
    ids = world(engine)
    other = contact(engine, external_id="456", username="omar", name="Omar")
    other_public = conversation(engine, ids["account"], other, kind="public", channel="mention")
    message(engine, other_public, "@acmecare where is my parcel", contact_id=other)
    # Omar DMed the account before: X lets the team DM him through the API
    earlier = conversation(engine, ids["account"], other, kind="dm", external_thread_id="456-900")
    message(engine, earlier, "hello?", kind="dm", contact_id=other)
    private = "the address is 12 Elm Street Springfield"
    moved = replies.move_to_dm(engine, other_public, ids["agent"], dm_text=private)
    assert moved.dm is not None and moved.dm.text == private
    # the guard override is for the guard's personal-data warning; it does not lift the DM rule
    with pytest.raises(ReplyRefused) as exc:
        replies.queue_reply(engine, ids["public"], ids["agent"], private, override_guard=True)
    assert exc.value.reason == "dm_text_in_public"


def test_retry_is_refused_once_the_text_was_dmd_with_personal_data_to_someone(engine: Engine) -> None:
    ids = world(engine)
    private = "the address is 12 Elm Street Springfield"
    failed = replies.queue_reply(engine, ids["public"], ids["agent"], private, override_guard=True)
    _fail(engine, failed.id)
    other = contact(engine, external_id="456", username="omar", name="Omar")
    other_dm = conversation(engine, ids["account"], other, kind="dm", external_thread_id="456-900")
    message(engine, other_dm, "hi, where is my parcel", kind="dm", contact_id=other)
    replies.queue_reply(engine, other_dm, ids["agent"], private)
    with pytest.raises(ReplyRefused) as exc:
        replies.retry(engine, failed.id, ids["agent"])
    assert exc.value.reason == "dm_text_in_public"


def test_a_second_move_to_dm_within_a_day_is_refused_even_after_a_new_post(engine: Engine) -> None:
    ids = world(engine)
    first = replies.move_to_dm(engine, ids["public"], ids["agent"])
    # the same click again (double submit) returns the same acknowledgement
    again = replies.move_to_dm(engine, ids["public"], ids["agent"])
    assert again.ack.id == first.ack.id
    # the customer posts again in public: no second identical acknowledgement in their thread
    message(engine, ids["public"], "@acmecare hello??", contact_id=ids["contact"])
    with pytest.raises(Conflict, match="moved to DM less than 24 hours ago"):
        replies.move_to_dm(engine, ids["public"], ids["agent"])
    with engine.connect() as conn:
        acks = conn.execute(
            sa.select(sa.func.count()).select_from(outbox).where(outbox.c.kind == "public_ack")
        ).scalar_one()
    assert acks == 1


def test_double_click_queues_once(engine: Engine) -> None:
    ids = world(engine)
    a = replies.queue_reply(engine, ids["public"], ids["agent"], "On it!")
    b = replies.queue_reply(engine, ids["public"], ids["agent"], "On it!")
    c = replies.queue_reply(engine, ids["public"], ids["agent"], "Different", idempotency_key="k1")
    d = replies.queue_reply(engine, ids["public"], ids["agent"], "Different", idempotency_key="k1")
    assert a.id == b.id and c.id == d.id and a.id != c.id
    with pytest.raises(Conflict):
        replies.queue_reply(engine, ids["public"], ids["agent"], "Another text", idempotency_key="k1")
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(outbox)).scalar() == 2


def test_move_to_dm_posts_ack_with_deep_link_and_links_dm_both_ways(engine: Engine) -> None:
    ids = world(engine)
    public2 = conversation(engine, ids["account"], ids["contact"])
    message(engine, public2, "my card was charged twice", contact_id=ids["contact"])
    result = replies.move_to_dm(engine, public2, ids["agent"], dm_text="Hi Jane, which order was it?")
    assert result.ack.kind == "public_ack" and result.ack.conversation_id == public2
    assert f"https://x.com/messages/compose?recipient_id={BRAND_ID}" in result.ack.text
    assert "card" not in result.ack.text and "Jane" not in result.ack.text
    assert result.dm_conversation_id == ids["dm"]  # the existing DM thread with this contact is reused
    assert result.dm is not None and result.dm.kind == "dm" and result.dm.recipient_external_id == "123"
    with engine.connect() as conn:
        links = dict(
            conn.execute(
                sa.select(conv_t.c.id, conv_t.c.linked_conversation_id).where(
                    conv_t.c.id.in_([public2, ids["dm"]])
                )
            ).all()
        )
    assert links == {public2: ids["dm"], ids["dm"]: public2}
    again = replies.move_to_dm(engine, public2, ids["agent"], dm_text="Hi Jane, which order was it?")
    assert again.ack.id == result.ack.id and again.dm is not None and again.dm.id == result.dm.id


def test_move_to_dm_creates_the_dm_thread_named_like_x(engine: Engine) -> None:
    ids = world(engine)

    other = contact(engine, external_id="5", username="sam")
    pub = conversation(engine, ids["account"], other)
    message(engine, pub, "help with my account", contact_id=other)
    result = replies.move_to_dm(engine, pub, ids["agent"])
    view = conversations.get_conversation(engine, result.dm_conversation_id).conversation
    assert (view.kind, view.channel, view.external_thread_id, view.linked_conversation_id) == (
        "dm",
        "dm",
        "5-900",
        pub,
    )
    assert result.dm is None
    with pytest.raises(ReplyRefused, match="already a DM"):
        replies.move_to_dm(engine, result.dm_conversation_id, ids["agent"])


def test_retry_makes_a_new_row_and_keeps_the_failed_one(engine: Engine) -> None:
    ids = world(engine)
    row = replies.queue_reply(engine, ids["public"], ids["agent"], "Sorry about that")
    with pytest.raises(Conflict, match="only a failed"):
        replies.retry(engine, row.id, ids["agent"])
    _fail(engine, row.id)
    new = replies.retry(engine, row.id, ids["agent"])
    assert new.id != row.id and new.idempotency_key != row.idempotency_key and new.text == row.text
    assert replies.retry(engine, row.id, ids["agent"]).id == new.id  # double-click on retry
    assert replies.get_outbox(engine, row.id).status == "failed"
    thread = conversations.get_conversation(engine, ids["public"]).thread
    assert [(i.outbox_id, i.status, i.error) for i in thread if i.type == "outbox"] == [
        (row.id, "failed", "403 duplicate content"),
        (new.id, "queued", None),
    ]


def test_a_double_retry_queues_one_new_row_whichever_path_retries(engine: Engine) -> None:
    ids = world(engine)
    row = replies.queue_reply(engine, ids["public"], ids["agent"], "Sorry about that")
    _fail(engine, row.id)

    def attempts() -> list[tuple[int, str]]:
        with engine.connect() as conn:
            found = conn.execute(
                sa.select(outbox.c.id, outbox.c.status).where(outbox.c.text == "Sorry about that")
            )
            return [(r.id, r.status) for r in found]

    first = replies.retry(engine, row.id, ids["agent"])
    again = replies.retry(engine, row.id, ids["agent"])
    with pytest.raises(Conflict, match="already"):
        outbox_svc.retry(engine, row.id)  # the sender's retry sees the same live attempt
    assert again.id == first.id
    assert attempts() == [(row.id, "failed"), (first.id, "queued")]
    assert [e.target_id for e in audit.list_events(engine, action="reply.retry")] == [str(first.id)]
    # once that attempt fails too, one more retry (of either row) is one more new row
    _fail(engine, first.id)
    third = replies.retry(engine, first.id, ids["agent"])
    assert replies.retry(engine, row.id, ids["agent"]).id == third.id
    assert attempts() == [(row.id, "failed"), (first.id, "failed"), (third.id, "queued")]


def test_bad_inputs_are_clear_errors(engine: Engine) -> None:
    ids = world(engine)
    with pytest.raises(ReplyRefused, match="empty"):
        replies.queue_reply(engine, ids["public"], ids["agent"], "   ")
    with pytest.raises(InvalidInput, match="idempotency key"):
        replies.queue_reply(engine, ids["public"], ids["agent"], "hi", idempotency_key="x" * 101)
    empty = conversation(engine, ids["account"], ids["contact"])
    with pytest.raises(ReplyRefused, match="no inbound post"):
        replies.queue_reply(engine, empty, ids["agent"], "hi")


def test_concurrent_double_submits_queue_one_row(engine: Engine) -> None:
    ids = world(engine)
    with ThreadPoolExecutor(max_workers=6) as pool:
        rows = list(
            pool.map(lambda _: replies.queue_reply(engine, ids["public"], ids["agent"], "On it!"), range(6))
        )
        moves = list(pool.map(lambda _: replies.move_to_dm(engine, ids["public"], ids["agent"]), range(6)))
    assert len({r.id for r in rows}) == 1 and len({m.ack.id for m in moves}) == 1
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(outbox)).scalar() == 2
        dms = conn.execute(
            sa.select(sa.func.count()).select_from(conv_t).where(conv_t.c.kind == "dm")
        ).scalar()
    assert dms == 1


def test_concurrent_retries_of_one_failed_row_queue_one_new_row(engine: Engine) -> None:
    ids = world(engine)
    row = replies.queue_reply(engine, ids["public"], ids["agent"], "Sorry about that")
    _fail(engine, row.id)
    with ThreadPoolExecutor(max_workers=6) as pool:
        retried = list(pool.map(lambda _: replies.retry(engine, row.id, ids["agent"]).id, range(6)))
    assert len(set(retried)) == 1 and retried[0] != row.id
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(outbox)).scalar() == 2
    assert len(audit.list_events(engine, action="reply.retry")) == 1
