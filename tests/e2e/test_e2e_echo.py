"""The organisation's reply, sent through the outbox and echoed back by the API,
attaches to its conversation as a sent message and never opens a conversation; the same when the
worker died between the platform call and recording it (the echo settles the 'sending' row)."""

from __future__ import annotations

import httpx
import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.jobs.worker import Worker
from flockdesk.services.accounts.connected import connector_for_account
from flockdesk.services.replies import outbox
from flockdesk.settings import Settings
from flockdesk.store.schema import conversations, messages
from flockdesk.store.schema import outbox as outbox_t

from .harness import connect, emulator, fast_settings


def _inject(emu: object, **body: object) -> dict[str, str]:
    r = httpx.post(f"{emu.base_url}/_emulator/post", json=body, timeout=10)  # type: ignore[attr-defined]
    r.raise_for_status()
    return r.json()  # type: ignore[no-any-return]


def _conversation_of(engine: Engine, external_id: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                sa.select(messages.c.conversation_id).where(messages.c.external_id == external_id)
            ).scalar_one()
        )


def _counts(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        convs = conn.execute(sa.select(sa.func.count()).select_from(conversations)).scalar_one()
        out = conn.execute(
            sa.select(sa.func.count()).select_from(messages).where(messages.c.direction == "out")
        ).scalar_one()
    return int(convs), int(out)


def _outbox_row(engine: Engine, oid: int) -> sa.RowMapping:
    with engine.connect() as conn:
        return conn.execute(sa.select(outbox_t).where(outbox_t.c.id == oid)).mappings().one()


def test_echoed_reply_and_dm_do_not_open_conversations(engine: Engine, settings: Settings) -> None:
    settings = fast_settings(settings)
    with emulator() as emu:
        account_id = connect(engine, settings, emu)
        post = _inject(emu, author="maya_k", text="@OakridgeU is #OakridgeU open on Sunday?")
        dm = _inject(emu, author="maya_k", text="hi, about my enrolment", dm=True)
        worker = Worker(engine, settings)
        worker.tick(all_enabled=True)
        public_conv, dm_conv = _conversation_of(engine, post["id"]), _conversation_of(engine, dm["id"])
        before_convs, _ = _counts(engine)
        reply_id = outbox.enqueue(
            engine,
            account_id=account_id,
            kind="reply",
            conversation_id=public_conv,
            text="@maya_k Yes, 10-4 on Sundays! #OakridgeU",
            in_reply_to=post["id"],
        )
        maya = dm["dm_conversation_id"].replace(emu.org_user["id"], "").strip("-")
        dm_id = outbox.enqueue(
            engine,
            account_id=account_id,
            kind="dm",
            conversation_id=dm_conv,
            text="Hi Maya, happy to help with enrolment",
            recipient=maya,
        )
        worker.tick(all_enabled=True)  # sends both
        worker.tick(all_enabled=True)  # reads the echoes back (search and DM events)
        sent = httpx.get(f"{emu.base_url}/_emulator/sent").json()["sent"]
        assert [s["kind"] for s in sent] == ["post", "dm"]
        assert sent[0]["in_reply_to_tweet_id"] == post["id"]
        assert _outbox_row(engine, reply_id)["external_id"] == sent[0]["id"]
        assert _outbox_row(engine, dm_id)["status"] == "sent"
        convs, out = _counts(engine)
        assert convs == before_convs, "an echo opened a conversation"
        assert out == 2
        assert _conversation_of(engine, sent[0]["id"]) == public_conv
        assert _conversation_of(engine, sent[1]["id"]) == dm_conv


def test_echo_settles_a_send_interrupted_before_it_was_recorded(engine: Engine, settings: Settings) -> None:
    settings = fast_settings(settings)
    with emulator() as emu:
        account_id = connect(engine, settings, emu)
        post = _inject(emu, author="sam_r", text="@OakridgeU where is #OakridgeU orientation?")
        worker = Worker(engine, settings)
        worker.tick(all_enabled=True)
        conv = _conversation_of(engine, post["id"])
        oid = outbox.enqueue(
            engine,
            account_id=account_id,
            kind="reply",
            conversation_id=conv,
            text="@sam_r In the Great Hall at 9. #OakridgeU",
            in_reply_to=post["id"],
        )
        row = outbox.claim_next(engine)
        assert row is not None and row["id"] == oid
        # the platform call succeeds, then the worker dies before recording it
        connector_for_account(engine, settings, account_id).send_post(row["text"], in_reply_to=post["id"])
        before_convs, _ = _counts(engine)
        worker.tick(all_enabled=True)  # a new pass: the echo arrives; the row is not resent
        sent = httpx.get(f"{emu.base_url}/_emulator/sent").json()["sent"]
        assert len(sent) == 1
        settled = _outbox_row(engine, oid)
        assert settled["status"] == "sent" and settled["external_id"] == sent[0]["id"]
        assert _counts(engine)[0] == before_convs
        assert _conversation_of(engine, sent[0]["id"]) == conv
