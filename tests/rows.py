"""Rows made without the network (accounts, sources, conversations) and a fake connector, for the worker,
outbox and cost tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.connectors.base import FetchedPage
from flockdesk.domain.types import InboundItem, Page, SendResult
from flockdesk.services.accounts.credentials import Credentials, Secret, encrypt_credentials
from flockdesk.store.schema import accounts, conversations, sources

ORG = "1000"


def add_account_row(engine: Engine, *, ext_id: str = ORG, username: str = "acme") -> int:
    blob = encrypt_credentials("test-secret-key", Credentials(Secret("tok")))
    with engine.begin() as conn:
        return int(
            conn.execute(
                accounts.insert()
                .values(
                    platform="x",
                    external_user_id=ext_id,
                    username=username,
                    display_name="Acme",
                    purpose="care",
                    base_url="http://x.invalid",
                    credentials_encrypted=blob,
                    active=True,
                    created_at=datetime.now(UTC),
                )
                .returning(accounts.c.id)
            ).scalar_one()
        )


def add_source_row(engine: Engine, account_id: int, kind: str, query: str | None = None) -> int:
    with engine.begin() as conn:
        return int(
            conn.execute(
                sources.insert()
                .values(
                    account_id=account_id,
                    kind=kind,
                    query=query,
                    enabled=True,
                    poll_interval_s=60.0,
                    next_poll_at=datetime.now(UTC) - timedelta(seconds=1),
                    created_at=datetime.now(UTC),
                )
                .returning(sources.c.id)
            ).scalar_one()
        )


def add_conversation_row(engine: Engine, account_id: int, kind: str, thread: str) -> int:
    now = datetime.now(UTC)
    with engine.begin() as conn:
        return int(
            conn.execute(
                conversations.insert()
                .values(
                    account_id=account_id,
                    platform="x",
                    kind=kind,
                    channel="dm" if kind == "dm" else "mention",
                    external_thread_id=thread,
                    status="open",
                    priority=0.0,
                    created_at=now,
                    last_message_at=now,
                    waiting_since=now,
                )
                .returning(conversations.c.id)
            ).scalar_one()
        )


def mention(ext_id: int, *, thread: int | None = None, author: str = "2000") -> InboundItem:
    return InboundItem(
        platform="x",
        external_id=str(ext_id),
        kind="mention",
        thread_kind="public",
        thread_id=str(thread or ext_id),
        channel="mention",
        author_id=author,
        text=f"@acme help {ext_id}",
        created_at=datetime(2026, 11, 1, tzinfo=UTC) + timedelta(seconds=ext_id),
    )


@dataclass
class FakeConnector:
    """Serves newest-first pages over a fixed list of mention ids, like the X API does."""

    ids: list[int] = field(default_factory=list)
    page_size: int = 3
    fail_after: int | None = None  # raise after this many fetches (a crash mid-sweep)
    calls: list[tuple[str | None, str | None]] = field(default_factory=list)
    sent: list[tuple[str, str, str | None]] = field(default_factory=list)
    send_error: Exception | None = None

    def fetch_mentions(
        self, user_id: str, *, since_id: str | None = None, pagination_token: str | None = None
    ) -> FetchedPage:
        if self.fail_after is not None and len(self.calls) >= self.fail_after:
            raise RuntimeError("simulated crash")
        self.calls.append((since_id, pagination_token))
        upper = int(pagination_token) if pagination_token else None
        pool = sorted(
            (i for i in self.ids if (since_id is None or i > int(since_id)) and (upper is None or i < upper)),
            reverse=True,
        )
        chunk = pool[: self.page_size]
        more = len(pool) > self.page_size
        page = Page(
            items=[mention(i) for i in chunk],
            next_token=str(chunk[-1]) if more else None,
            newest_id=str(chunk[0]) if chunk else None,
        )
        return FetchedPage(page)

    def compare_ids(self, a: str, b: str) -> int:
        return (int(a) > int(b)) - (int(a) < int(b))

    def send_post(self, text: str, *, in_reply_to: str | None = None) -> SendResult:
        if self.send_error:
            raise self.send_error
        self.sent.append(("post", text, in_reply_to))
        return SendResult(external_id=str(900000 + len(self.sent)))

    def send_dm(self, recipient_id: str, text: str) -> SendResult:
        if self.send_error:
            raise self.send_error
        self.sent.append(("dm", text, recipient_id))
        return SendResult(external_id=str(800000 + len(self.sent)), thread_id=f"{ORG}-{recipient_id}")


def count(engine: Engine, table: sa.Table, *where: sa.ColumnElement[bool]) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one())
