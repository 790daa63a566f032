"""A second platform with nothing numeric about it (tests/fakenet.py, Bluesky-shaped `at://` ids and
domain handles) works through the same services: account, sweeps whose cursors move, move to DM with
its own deep link and thread id, the outbox, echo matching, listening queries and costs."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import date

import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.jobs.pacing import Pacer
from flockdesk.jobs.sweep import Sweeper, load_cursor
from flockdesk.services.accounts import connected, costs, sources
from flockdesk.services.ingest.ingestor import Ingestor
from flockdesk.services.replies import outbox
from flockdesk.services.replies.move_to_dm import move_to_dm
from flockdesk.settings import Settings
from flockdesk.store.schema import contacts, conversations, messages
from flockdesk.store.schema import outbox as outbox_table
from flockdesk.store.schema import sources as sources_table
from tests import fakenet
from tests.seed_data import user

JANE = "did:plc:janejanejanejanejanejane"


def _sweeper(engine: Engine) -> Sweeper:
    return Sweeper(engine, Ingestor(engine), Pacer(), stop=threading.Event(), clock=time.time)


def _source(engine: Engine, account_id: int, kind: str) -> sa.RowMapping:
    with engine.connect() as conn:
        return (
            conn.execute(
                sa.select(sources_table).where(
                    sources_table.c.account_id == account_id, sources_table.c.kind == kind
                )
            )
            .mappings()
            .one()
        )


def _connect(engine: Engine, settings: Settings) -> int:
    allowed = settings.model_copy(
        update={"allowed_api_hosts": [*settings.allowed_api_hosts, "fakenet.example"]}
    )
    info = connected.add_account(
        engine, allowed, base_url="https://fakenet.example", token="t", platform="fakenet"
    )
    return int(info.id)


def test_sweep_cursors_move_on_ids_that_are_not_numbers(engine: Engine, settings: Settings) -> None:
    fake = fakenet.FakenetConnector(mentions=[fakenet.mention(n) for n in range(1, 6)])
    with fakenet.registered(fake):
        account_id = _connect(engine, settings)
        src = _source(engine, account_id, "mentions")
        out = _sweeper(engine).sweep(src, fakenet.BRAND, fake)
        assert out.state == "done" and out.items == 5 and out.pages == 3
        newest = fakenet.mention(5).external_id
        assert len(newest) > 64  # wider than the id columns were
        assert load_cursor(engine, int(src["id"])) == (newest, None, None)

        fake.mentions += [fakenet.mention(6), fakenet.mention(7)]
        fake.calls.clear()
        out = _sweeper(engine).sweep(src, fakenet.BRAND, fake)
        assert out.items == 2 and fake.calls == [("mentions", newest, None)]  # only what is new
        assert load_cursor(engine, int(src["id"]))[0] == fakenet.mention(7).external_id

        with engine.connect() as conn:
            stored = set(conn.execute(sa.select(messages.c.external_id)).scalars())
            host = conn.execute(sa.select(contacts.c.host).where(contacts.c.external_id == JANE)).scalar()
        assert stored == {fakenet.mention(n).external_id for n in range(1, 8)}
        assert host == "fakenet.example"


def test_a_dm_sweep_stops_where_the_last_one_ended(engine: Engine, settings: Settings) -> None:
    fake = fakenet.FakenetConnector(dms=[fakenet.dm(n) for n in range(1, 6)])
    with fakenet.registered(fake):
        account_id = _connect(engine, settings)
        src = _source(engine, account_id, "dms")
        assert _sweeper(engine).sweep(src, fakenet.BRAND, fake).items == 5
        assert load_cursor(engine, int(src["id"]))[0] == fakenet.dm(5).external_id
        fake.dms.append(fakenet.dm(6))
        fake.calls.clear()
        out = _sweeper(engine).sweep(src, fakenet.BRAND, fake)
        # the first page (6, 5) reaches back to the cursor: no need to page through older events
        assert out.items == 1 and len(fake.calls) == 1
        assert load_cursor(engine, int(src["id"]))[0] == fakenet.dm(6).external_id


def test_move_to_dm_and_the_outbox_use_the_platforms_rules(engine: Engine, settings: Settings) -> None:
    fake = fakenet.FakenetConnector()
    with fakenet.registered(fake):
        account_id = _connect(engine, settings)
        first = fakenet.mention(1)
        Ingestor(engine).ingest_page(account_id, [first])
        agent = user(engine, "alice")
        with engine.connect() as conn:
            public = conn.execute(
                sa.select(conversations.c.id).where(conversations.c.external_thread_id == first.thread_id)
            ).scalar_one()

        moved = move_to_dm(engine, public, agent)

        link = f"https://fakenet.example/messages/new?to={fakenet.BRAND}"
        assert link in moved.ack.text and "x.com" not in moved.ack.text
        with engine.connect() as conn:
            thread = conn.execute(
                sa.select(conversations.c.external_thread_id).where(
                    conversations.c.id == moved.dm_conversation_id
                )
            ).scalar_one()
        assert thread == fakenet.PROFILE.dm_thread_id(fakenet.BRAND, JANE)

        report = outbox.send_pending(engine, lambda _account: fake)
        assert report.sent == 1
        assert fake.sent == [("post", moved.ack.text, first.external_id)]


def test_an_echo_behind_domain_handles_settles_the_send(engine: Engine, settings: Settings) -> None:
    with fakenet.registered():
        account_id = _connect(engine, settings)
        first = fakenet.mention(1)
        Ingestor(engine).ingest_page(account_id, [first])
        outbox.enqueue(
            engine, account_id=account_id, kind="reply", text="On it!", in_reply_to=first.external_id
        )
        claimed = outbox.claim_next(engine)
        assert claimed is not None  # the worker died here: sent or not, only the echo can tell
        echo = replace(
            fakenet.mention(2, author=fakenet.BRAND),
            kind="reply",
            text="@jane.fakenet.example On it!",  # the platform put the handle in front
            in_reply_to_external_id=first.external_id,
            thread_id=first.thread_id,
        )
        Ingestor(engine).ingest_page(account_id, [echo])
        with engine.connect() as conn:
            row = conn.execute(sa.select(outbox_table).where(outbox_table.c.id == claimed["id"])).one()
        assert row.status == "sent" and row.external_id == echo.external_id


def test_listening_queries_and_costs_follow_the_platform(engine: Engine, settings: Settings) -> None:
    with fakenet.registered():
        account_id = _connect(engine, settings)
        src = sources.add_search_source(engine, settings, "  Refund   DELAY ", account_id=account_id)
        assert src.query == "refund delay" and src.platform == "fakenet"  # no X operators added
        assert costs.record_call(engine, account_id, "search", 4) == 1.0
        today = date.today()
        assert costs.estimate_month(engine, 10.0, today=today).spent_usd == 1.0
        assert costs.estimate_query_monthly_cost(10, platform="fakenet") == 75.0
