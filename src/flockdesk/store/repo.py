"""Read queries other modules share: accounts by id or platform user, and store-wide counts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from flockdesk.store.schema import accounts, contacts, conversations, dead_letters, messages, outbox


def get_account(conn: Connection, account_id: int) -> Mapping[Any, Any] | None:
    """The account row (credentials stay encrypted), or None."""
    return conn.execute(sa.select(accounts).where(accounts.c.id == account_id)).mappings().first()


def account_by_external_user(
    conn: Connection, platform: str, external_user_id: str
) -> Mapping[Any, Any] | None:
    q = sa.select(accounts).where(
        accounts.c.platform == platform, accounts.c.external_user_id == external_user_id
    )
    return conn.execute(q).mappings().first()


def _grouped(conn: Connection, column: sa.ColumnElement[Any]) -> dict[str, int]:
    table = column.table
    rows = conn.execute(sa.select(column, sa.func.count()).select_from(table).group_by(column))
    return {str(value): int(n) for value, n in rows}


def stats(engine: Engine) -> dict[str, Any]:
    """Counts of what the store holds, for `flockdesk stats` and scripts."""
    with engine.connect() as conn:
        by_kind = _grouped(conn, messages.c.kind)
        by_direction = _grouped(conn, messages.c.direction)
        conv_kind = _grouped(conn, conversations.c.kind)
        conv_status = _grouped(conn, conversations.c.status)
        outbox_status = _grouped(conn, outbox.c.status)
        n_contacts = conn.execute(sa.select(sa.func.count()).select_from(contacts)).scalar_one()
        n_dead = conn.execute(sa.select(sa.func.count()).select_from(dead_letters)).scalar_one()
    return {
        "messages": {"total": sum(by_kind.values()), "by_kind": by_kind, "by_direction": by_direction},
        "conversations": {"total": sum(conv_kind.values()), "by_kind": conv_kind, "by_status": conv_status},
        "contacts": int(n_contacts),
        "dead_letters": int(n_dead),
        "outbox": {"total": sum(outbox_status.values()), "by_status": outbox_status},
    }
