"""Strict mode under each OpenAPI spec (issue 8 §5): the worker's every read and send, spelled for the
spec its account is set to, draws no 400 from an emulator that validates requests as X's playground
does; set to the wrong spec, the connector respells what the API names, polls on, stores the
messages, and keeps what it learnt per source (once: a restarted worker does not ask again)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.emulator.server import EmulatorServer
from flockdesk.jobs.worker import Worker, WorkerOptions
from flockdesk.services.accounts import connected as accounts_svc
from flockdesk.services.monitoring import drift
from flockdesk.services.replies import outbox
from flockdesk.settings import Settings
from flockdesk.store.schema import messages, sources
from tests.e2e.harness import connect, emulator, fast_settings


def _strict(emu: EmulatorServer, version: str, shared_dir: Path) -> None:
    spec_dir = str(shared_dir / "reference" / "x-openapi")
    r = httpx.post(
        f"{emu.base_url}/_emulator/config", json={"strict_spec": version, "spec_dir": spec_dir}, timeout=10
    )
    r.raise_for_status()


def _inject(emu: EmulatorServer, **body: Any) -> dict[str, Any]:
    r = httpx.post(f"{emu.base_url}/_emulator/post", json=body, timeout=10)
    r.raise_for_status()
    return r.json()  # type: ignore[no-any-return]


def _requests(emu: EmulatorServer) -> list[dict[str, Any]]:
    return httpx.get(f"{emu.base_url}/_emulator/requests", timeout=10).json()["requests"]  # type: ignore[no-any-return]


def _traffic(emu: EmulatorServer, tag: str) -> dict[str, dict[str, Any]]:
    return {
        "mention": _inject(emu, author="maya_k", text=f"@OakridgeU is the library open? {tag}"),
        "search": _inject(emu, author="sam_r", text=f"#OakridgeU open day was great {tag}", kind="search"),
        "dm": _inject(emu, author="lee_p", text=f"hi, about my enrolment {tag}", dm=True),
    }


def _stored(engine: Engine, external_id: str) -> bool:
    with engine.connect() as conn:
        found = conn.execute(sa.select(messages.c.id).where(messages.c.external_id == external_id)).first()
    return found is not None


def _degraded(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(sources.c.kind, sources.c.degraded)).all()
    return {kind: raw for kind, raw in rows}


@pytest.mark.parametrize("version", ["2.159", "2.167"])
def test_every_read_and_send_passes_strict_validation(
    engine: Engine, settings: Settings, shared_dir: Path, version: str
) -> None:
    settings = fast_settings(settings)
    with emulator() as emu:
        _strict(emu, version, shared_dir)
        account_id = connect(engine, settings, emu)  # GET /2/users/me under strict mode too
        accounts_svc.set_api_version(engine, account_id, version)
        sent = _traffic(emu, "one")
        worker = Worker(engine, settings, options=WorkerOptions(outbox_grace_s=0.0))
        report = worker.tick(all_enabled=True)
        assert {o.state for o in report.swept.values()} == {"done"}, report.swept
        assert all(_stored(engine, m["id"]) for m in sent.values())
        customer = next(p for p in sent["dm"]["dm_conversation_id"].split("-") if p != emu.org_user["id"])
        outbox.enqueue(
            engine,
            account_id=account_id,
            kind="reply",
            text="Yes, until 10 pm",
            in_reply_to=sent["mention"]["id"],
        )
        outbox.enqueue(engine, account_id=account_id, kind="dm", text="Happy to help", recipient=customer)
        assert worker.send_outbox().sent == 2
        since = datetime.now(UTC) - timedelta(minutes=5)
        own = worker.connector(account_id).fetch_own_posts(emu.org_user["id"], since=since).page.items
        assert any(i.text == "Yes, until 10 pm" for i in own)
        log = _requests(emu)
        seen = {r["endpoint"] for r in log}
        assert {"users_me", "mentions", "search", "dm_events", "user_tweets", "post_tweet", "post_dm"} <= seen
        assert [r for r in log if r["status"] == 400] == []
        assert all(raw is None for raw in _degraded(engine).values())


def test_a_connector_set_to_the_wrong_spec_degrades_and_polls_on(
    engine: Engine, settings: Settings, shared_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = fast_settings(settings)
    with emulator() as emu:
        account_id = connect(engine, settings, emu)
        accounts_svc.set_api_version(engine, account_id, "2.159")  # the host speaks 2.167 (the playground)
        _strict(emu, "2.167", shared_dir)
        first = _traffic(emu, "one")
        with caplog.at_level(logging.WARNING, logger="flockdesk.jobs.sweep"):
            report = Worker(engine, settings).tick(all_enabled=True)
        assert {o.state for o in report.swept.values()} == {"done"}, report.swept
        assert all(_stored(engine, m["id"]) for m in first.values())
        refusals = [r for r in _requests(emu) if r["status"] == 400]
        assert {r["endpoint"] for r in refusals} == {"mentions", "search", "dm_events"}
        stored = {kind: drift.from_json(raw) for kind, raw in _degraded(engine).items()}
        mentions = {(d.parameter, d.value): d.replacement for d in stored["mentions"]}
        assert mentions[("tweet.fields", None)] == "post.fields"
        assert mentions[("post.fields", "author_id")] == "expansions=author_id"
        assert mentions[("post.fields", "referenced_tweets")] == "expansions=referenced_posts"
        assert all("'author_id'" in d.detail for d in stored["mentions"] if d.value == "author_id")
        dms = {(d.parameter, d.value): d.replacement for d in stored["dms"]}
        assert dms[("dm_event.fields", "sender_id")] == "expansions=sender_id"
        warned = [r for r in caplog.records if "the API refused" in r.getMessage()]
        assert len(warned) == sum(len(v) for v in stored.values())  # one line per degradation, not per poll

        # a restarted worker reads what was learnt: no 400 again, no new warning, messages still stored
        caplog.clear()
        before = len(_requests(emu))
        second = _traffic(emu, "two")
        with caplog.at_level(logging.WARNING, logger="flockdesk.jobs.sweep"):
            report = Worker(engine, settings).tick(all_enabled=True)
        assert {o.state for o in report.swept.values()} == {"done"}, report.swept
        assert all(_stored(engine, m["id"]) for m in second.values())
        assert [r for r in _requests(emu)[before:] if r["status"] == 400] == []
        assert not [r for r in caplog.records if "the API refused" in r.getMessage()]
