"""X Chat end to end against the emulator: the brand's keys through chatxdk, customers who chat once
the keys are published, the worker storing decrypted messages in each customer's one DM thread,
replies encrypted on the transport the customer used, rotation, garbled events as dead letters, the
key blob encrypted at rest and never logged, and the clear state when the keys are lost."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.connectors.x.links import dm_thread_id
from flockdesk.domain.realtime import ChatEnvelope
from flockdesk.emulator import chat as emu_chat
from flockdesk.emulator.server import EmulatorServer
from flockdesk.jobs.worker import Worker
from flockdesk.services.accounts import xchat_keys
from flockdesk.services.accounts.connected import add_account
from flockdesk.services.replies.compose import queue_reply
from flockdesk.services.team.users import create_user
from flockdesk.settings import Settings
from flockdesk.store.schema import (
    accounts,
    audit_events,
    conversations,
    dead_letters,
    messages,
    outbox,
    sources,
)


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorServer]:
    with EmulatorServer(scenario="airline", speedup=900) as server:
        yield server


@pytest.fixture
def world(emu: EmulatorServer, engine: Engine, settings: Settings) -> dict[str, Any]:
    httpx.post(f"{emu.base_url}/_emulator/reset", json={}).raise_for_status()
    info = add_account(engine, settings, base_url=emu.base_url, token=emu.token)
    agent = create_user(engine, "agent1", "a-long-password-1", "agent")
    return {"account": info.id, "org": info.external_user_id, "agent": agent.id}


def _traffic(emu: EmulatorServer, n: int, seed: int = 3) -> None:
    body = {"scenario": "airline", "messages": n, "seed": seed}
    httpx.post(f"{emu.base_url}/_emulator/traffic", json=body).raise_for_status()


def _truth(emu: EmulatorServer) -> dict[str, Any]:
    return dict(httpx.get(f"{emu.base_url}/_emulator/truth").json())


def _worker(engine: Engine, settings: Settings) -> Worker:
    return Worker(engine, settings)


def _stored(engine: Engine) -> dict[str, sa.RowMapping]:
    with engine.connect() as conn:
        q = sa.select(messages, conversations.c.external_thread_id, conversations.c.kind.label("ckind")).join(
            conversations, conversations.c.id == messages.c.conversation_id
        )
        return {r["external_id"]: r for r in conn.execute(q).mappings()}


def _xchat_dead(engine: Engine) -> list[sa.RowMapping]:
    with engine.connect() as conn:
        return list(
            conn.execute(sa.select(dead_letters).where(dead_letters.c.origin == "x:xchat")).mappings()
        )


def test_customers_chat_after_keys_and_the_worker_stores_them_decrypted(
    emu: EmulatorServer, engine: Engine, settings: Settings, world: dict[str, Any]
) -> None:
    assert xchat_keys.status(engine, settings, world["account"]).state == "none"
    state = xchat_keys.generate(engine, settings, world["account"])
    assert state.state == "ready" and state.version in _truth(emu)["org_public_key_versions"]
    _traffic(emu, 120)
    worker = _worker(engine, settings)
    worker.tick(all_enabled=True)
    truth = [c for c in _truth(emu)["chats"] if not c["from_org"]]
    assert truth, "customers opened X Chat conversations"
    stored = _stored(engine)
    readable = [c for c in truth if not c["garbled"]]
    for chat in readable:
        row = stored[f"xchat:{chat['id']}"]
        assert row["text"] == chat["text"]
        assert row["transport"] == "xchat" and row["kind"] == "dm" and row["ckind"] == "dm"
        members = chat["participant_ids"]
        if len(members) == 2:  # one DM thread per customer, the same id legacy DMs use
            assert row["external_thread_id"] == dm_thread_id(*members)
        assert "encoded_event" in row["raw"] and chat["text"] not in str(row["raw"])
    assert len(_xchat_dead(engine)) == sum(1 for c in truth if c["garbled"])
    before = len(_stored(engine))
    worker.tick(all_enabled=True)  # the next poll reads nothing twice
    assert len(_stored(engine)) == before


def test_a_reply_goes_out_encrypted_on_xchat_and_the_customer_reads_it(
    emu: EmulatorServer, engine: Engine, settings: Settings, world: dict[str, Any]
) -> None:
    xchat_keys.generate(engine, settings, world["account"])
    _traffic(emu, 60)
    worker = _worker(engine, settings)
    worker.tick(all_enabled=True)
    with engine.connect() as conn:
        conv_id = conn.execute(
            sa.select(messages.c.conversation_id)
            .join(conversations, conversations.c.id == messages.c.conversation_id)
            .where(messages.c.transport == "xchat", conversations.c.external_thread_id.not_like("g%"))
            .limit(1)
        ).scalar_one()
    row = queue_reply(
        engine,
        conv_id,
        world["agent"],
        "So sorry! Shall we rebook you?",
        quick_replies=["Rebook me", "Refund"],
    )
    assert row.kind == "dm" and row.transport == "xchat"
    report = worker.send_outbox()
    assert report.sent == 1, report
    sent = [c for c in _truth(emu)["chats"] if c["sent_by_client"]]
    assert len(sent) == 1
    assert sent[0]["readable"] is True, sent[0]["problem"]
    assert sent[0]["text"] == "So sorry! Shall we rebook you?"
    labels = [o["label"] for o in sent[0]["quick_reply"]["request"]["options"]["options"]]
    assert labels == ["Rebook me", "Refund"]
    with engine.connect() as conn:
        ob = conn.execute(sa.select(outbox).where(outbox.c.id == row.id)).mappings().one()
    assert ob["status"] == "sent" and ob["external_id"] == f"xchat:{sent[0]['id']}"
    worker.tick(all_enabled=True)  # its echo through the poll is the same message, stored once
    out = [m for m in _stored(engine).values() if m["outbox_id"] == row.id]
    assert len(out) == 1 and out[0]["transport"] == "xchat" and out[0]["direction"] == "out"


def test_legacy_dm_then_xchat_is_one_thread_and_the_reply_follows_the_last_transport(
    emu: EmulatorServer, engine: Engine, settings: Settings, world: dict[str, Any]
) -> None:
    xchat_keys.generate(engine, settings, world["account"])
    legacy = httpx.post(
        f"{emu.base_url}/_emulator/post", json={"author": "ana_g", "text": "hi, legacy here", "dm": True}
    ).json()
    worker = _worker(engine, settings)
    worker.tick(all_enabled=True)
    state = emu.state
    with state.lock:
        ana = state.user_by_username("ana_g")
        assert ana is not None
        peer = emu_chat.peer_for(state, ana.id)
        conv = emu_chat.conversation(
            state, emu_chat.one_to_one_id(state.org.id, ana.id), [state.org.id, ana.id]
        )
        event = emu_chat.customer_send(state, peer, conv, "and now on X Chat")
    worker.tick(all_enabled=True)
    stored = _stored(engine)
    old, new = stored[legacy["id"]], stored[f"xchat:{event.sequence_id}"]
    assert old["conversation_id"] == new["conversation_id"]
    assert (old["transport"], new["transport"]) == ("legacy", "xchat")
    with engine.connect() as conn:
        threads = conn.execute(
            sa.select(sa.func.count()).where(
                conversations.c.kind == "dm", conversations.c.contact_id == old["author_contact_id"]
            )
        ).scalar_one()
    assert threads == 1
    row = queue_reply(engine, new["conversation_id"], world["agent"], "Got it on X Chat")
    assert row.transport == "xchat"
    assert worker.send_outbox().sent == 1
    assert _truth(emu)["chats"][-1]["readable"] is True


def test_customer_key_rotation_and_a_garbled_event(
    emu: EmulatorServer, engine: Engine, settings: Settings, world: dict[str, Any]
) -> None:
    xchat_keys.generate(engine, settings, world["account"])
    _traffic(emu, 40)
    worker = _worker(engine, settings)
    worker.tick(all_enabled=True)
    state = emu.state
    with state.lock:
        conv = next(v for v in state.chat.conversations.values() if not v.is_group)
        customer = next(u for u in conv.participants if u != state.org.id)
        peer = state.chat.peers[customer]
        old_key = conv.latest_key
        emu_chat.customer_rotate(state, peer, conv)
        rotated = emu_chat.customer_send(state, peer, conv, "new key, same me")
        garbled = emu_chat.customer_send(state, peer, conv, "my booking ref AB12CD", garble=True)
    assert rotated.key_version != old_key
    worker.tick(all_enabled=True)
    stored = _stored(engine)
    assert stored[f"xchat:{rotated.sequence_id}"]["text"] == "new key, same me"
    assert f"xchat:{garbled.sequence_id}" not in stored
    dead = [d for d in _xchat_dead(engine) if str(garbled.sequence_id) in d["reason"]]
    assert len(dead) == 1 and "signature" in dead[0]["reason"].lower()
    assert dead[0]["payload"] == garbled.encoded  # the encrypted event, not plaintext
    assert "AB12CD" not in dead[0]["payload"]


def test_the_stream_sink_stores_chat_events_once_with_the_poll(
    emu: EmulatorServer, engine: Engine, settings: Settings, world: dict[str, Any]
) -> None:
    xchat_keys.generate(engine, settings, world["account"])
    _traffic(emu, 40)
    worker = _worker(engine, settings)
    sink = worker.chat_events()
    received = [e for e in emu.state.activity.since(0, 10_000) if e.event_type == "chat.received"]
    assert received
    for e in received:
        sink.handle_chat_event(
            world["account"],
            ChatEnvelope(str(e.seq), e.event_type, str(emu.state.org.id), dict(e.payload)),
        )
    truth = {c["id"]: c for c in _truth(emu)["chats"]}
    stored = _stored(engine)
    streamed = [m for m in stored.values() if m["transport"] == "xchat"]
    assert streamed and all(m["text"] == truth[m["external_id"][6:]]["text"] for m in streamed)
    count = len(stored)
    worker.tick(all_enabled=True)
    assert {k for k in _stored(engine) if k.startswith("xchat:")} >= {m["external_id"] for m in streamed}
    assert len(_stored(engine)) >= count
    assert len({m["external_id"] for m in _stored(engine).values()}) == len(_stored(engine))


def test_key_blob_is_encrypted_at_rest_and_never_logged_or_audited(
    emu: EmulatorServer,
    engine: Engine,
    settings: Settings,
    world: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    caplog.set_level(logging.DEBUG)
    xchat_keys.generate(engine, settings, world["account"])
    blob = xchat_keys.export_backup(engine, settings, world["account"])
    assert len(blob) == 64
    forms = [blob, base64.b64encode(blob), blob.hex().encode()]
    with engine.connect() as conn:
        stored = bytes(
            conn.execute(
                sa.select(accounts.c.xchat_keys_encrypted).where(accounts.c.id == world["account"])
            ).scalar_one()
        )
        audit = str(list(conn.execute(sa.select(audit_events.c.action, audit_events.c.details))))
    assert all(f not in stored for f in forms)
    assert "account.xchat_keys.generate" in audit and "account.xchat_keys.export" in audit
    assert all(f.decode("latin-1") not in audit for f in forms[1:])
    if engine.dialect.name == "sqlite":
        db_files = [p for p in settings.data_dir.rglob("*") if p.is_file()]
        assert db_files
        for path in db_files:
            raw = path.read_bytes()
            assert all(f not in raw for f in forms), path
    _traffic(emu, 30)
    _worker(engine, settings).tick(all_enabled=True)
    logged = "\n".join(r.getMessage() + repr(r.args) for r in caplog.records)
    assert all(f.decode("latin-1") not in logged for f in forms[1:])
    assert repr(xchat_keys.load(engine, settings, world["account"])).endswith("blob='***')")


def test_lost_keys_are_a_clear_state_and_a_backup_restores_them(
    emu: EmulatorServer, engine: Engine, settings: Settings, world: dict[str, Any]
) -> None:
    xchat_keys.generate(engine, settings, world["account"])
    backup = xchat_keys.export_backup(engine, settings, world["account"])
    with engine.begin() as conn:
        conn.execute(accounts.update().values(xchat_keys_encrypted=None))
    state = xchat_keys.status(engine, settings, world["account"])
    assert state.state == "missing"
    assert state.message == (
        "X Chat keys missing: generate new keys (customers' older chats can't be read) or import a backup"
    )
    _traffic(emu, 60)
    legacy = httpx.post(
        f"{emu.base_url}/_emulator/post", json={"author": "ana_g", "text": "legacy still works", "dm": True}
    ).json()
    report = _worker(engine, settings).tick(all_enabled=True)
    with engine.connect() as conn:
        rows = {r.kind: r for r in conn.execute(sa.select(sources))}
    assert rows["xchat"].last_error == state.message
    assert rows["dms"].last_error is None and report.swept[rows["dms"].id].state == "done"
    assert legacy["id"] in _stored(engine)
    assert not [k for k in _stored(engine) if k.startswith("xchat:")]

    with pytest.raises(xchat_keys.AccountError, match="not an X Chat key backup"):
        xchat_keys.import_backup(engine, settings, world["account"], b"not a key")
    assert xchat_keys.import_backup(engine, settings, world["account"], backup).state == "ready"
    _worker(engine, settings).tick(all_enabled=True)
    assert [k for k in _stored(engine) if k.startswith("xchat:")]
