"""Rows for the web tests, written straight into the tables (what ingest would have stored).

The builders of tests/seed_data.py at a recent time T0 (so SLA clocks show real waits), with the
argument order these tests use.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select

from flockdesk.store.schema import accounts
from tests import seed_data as rows
from tests.seed_data import insert

__all__ = ["T0", "account", "contact", "conversation", "insert", "message", "thread"]

T0 = datetime.now(UTC) - timedelta(minutes=30)


def account(engine: Engine) -> int:
    return rows.account(engine, at=T0)


def contact(
    engine: Engine,
    *,
    username: str = "jane",
    name: str = "Jane Doe",
    bio: str = "",
    followers: int = 10,
    verified: bool = False,
) -> int:
    return rows.contact(
        engine, username=username, name=name, bio=bio, followers_count=followers, verified=verified, at=T0
    )


def conversation(
    engine: Engine,
    account_id: int,
    contact_id: int,
    *,
    kind: str = "public",
    channel: str | None = None,
    priority: float = 0.5,
) -> int:
    return rows.conversation(
        engine, account_id, contact_id, kind=kind, channel=channel, priority=priority, at=T0
    )


def message(
    engine: Engine, conversation_id: int, contact_id: int, text: str, *, kind: str = "mention", **labels: Any
) -> int:
    return rows.message(engine, conversation_id, text, kind=kind, contact_id=contact_id, at=T0, **labels)


def thread(
    engine: Engine,
    *,
    text: str = "@acmecare my order never arrived",
    name: str = "Jane Doe",
    username: str = "jane",
    bio: str = "",
    kind: str = "public",
    **labels: Any,
) -> dict[str, int]:
    """A contact with one conversation holding one inbound message; reuses the first account."""
    with engine.connect() as conn:
        acct = conn.execute(select(accounts.c.id).limit(1)).scalar()
    acct = acct or account(engine)
    ct = contact(engine, username=username, name=name, bio=bio)
    conv = conversation(engine, acct, ct, kind=kind)
    msg = message(engine, conv, ct, text, kind="dm" if kind == "dm" else "mention", **labels)
    return {"account": acct, "contact": ct, "conversation": conv, "message": msg}
