"""Store rows for tests, written straight into the tables (what ingest or the CLI would have stored).

Shared by tests/services/seed.py and tests/web/seed.py. Every builder takes `at` (the time its row
was made; default T0) and returns the new row's id.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from flockdesk.store.schema import accounts, contacts, conversations, messages, users

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
BRAND_ID = "900"
_ids = itertools.count(10_000)


def next_id() -> str:
    """A fresh platform id (unique within the test run)."""
    return str(next(_ids))


def insert(engine: Engine, table: Any, **values: Any) -> int:
    with engine.begin() as conn:
        return int(conn.execute(table.insert().values(**values)).inserted_primary_key[0])  # type: ignore[index]


def user(engine: Engine, username: str, role: str = "agent", name: str = "", *, at: datetime = T0) -> int:
    return insert(
        engine,
        users,
        username=username,
        name=name or username.title(),
        password_hash="x",
        role=role,
        active=True,
        created_at=at,
    )


def account(
    engine: Engine, external_user_id: str = BRAND_ID, name: str = "Acme Care", *, at: datetime = T0
) -> int:
    return insert(
        engine,
        accounts,
        platform="x",
        external_user_id=external_user_id,
        username="acmecare",
        display_name=name,
        purpose="care",
        base_url="http://127.0.0.1:1",
        credentials_encrypted=b"x",
        active=True,
        created_at=at,
    )


def contact(
    engine: Engine,
    external_id: str | None = None,
    username: str = "jane",
    *,
    at: datetime = T0,
    **extra: Any,
) -> int:
    return insert(
        engine,
        contacts,
        platform="x",
        external_id=external_id or next_id(),
        username=username,
        name=extra.pop("name", username.title()),
        bio=extra.pop("bio", ""),
        followers_count=extra.pop("followers_count", 10),
        verified=extra.pop("verified", False),
        first_seen_at=at,
        updated_at=at,
        **extra,
    )


def conversation(
    engine: Engine,
    account_id: int,
    contact_id: int | None,
    *,
    kind: str = "public",
    channel: str | None = None,
    status: str = "open",
    priority: float = 0.5,
    at: datetime = T0,
    **extra: Any,
) -> int:
    """A conversation waiting since `at` unless `waiting_since` is given."""
    return insert(
        engine,
        conversations,
        account_id=account_id,
        platform="x",
        kind=kind,
        channel=channel or ("dm" if kind == "dm" else "mention"),
        external_thread_id=extra.pop("external_thread_id", next_id()),
        contact_id=contact_id,
        status=status,
        priority=priority,
        created_at=at,
        last_message_at=at,
        waiting_since=extra.pop("waiting_since", at),
        **extra,
    )


def message(
    engine: Engine,
    conversation_id: int,
    text: str,
    *,
    direction: str = "in",
    kind: str = "mention",
    contact_id: int | None = None,
    at: datetime | None = None,
    **labels: Any,
) -> int:
    """A message at `at` (default: a distinct second after T0)."""
    at = at or T0 + timedelta(seconds=next(_ids) % 1000)
    return insert(
        engine,
        messages,
        conversation_id=conversation_id,
        platform="x",
        external_id=next_id(),
        kind=kind,
        direction=direction,
        author_contact_id=contact_id,
        text=text,
        created_at=at,
        ingested_at=at,
        **labels,
    )
