"""Listening sources: an account's mentions and DMs, and its search queries.

A search query is validated and normalised by the account's platform before it is stored (its
profile's `QueryRules`, from the connector registry; X's rules are in connectors/x/query.py).

Adding, changing and removing a source is audited; `actor_id` is the admin, None for the command
line (recorded as "cli").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.connectors import registry
from flockdesk.connectors.base import InvalidQuery
from flockdesk.domain.errors import InvalidInput
from flockdesk.domain.utc import utcnow
from flockdesk.services.accounts.connected import AccountError, default_interval
from flockdesk.services.team import audit
from flockdesk.settings import Settings
from flockdesk.store.schema import accounts, sources, sync_cursors


class QueryError(InvalidInput):
    """A listening query that cannot be used; the message says how to fix it."""


@dataclass(frozen=True)
class SourceInfo:
    id: int
    account_id: int
    account_username: str
    platform: str
    kind: str
    query: str | None
    enabled: bool
    poll_interval_s: float
    next_poll_at: datetime | None
    last_polled_at: datetime | None
    last_error: str | None
    since_id: str | None
    next_token: str | None


def normalise_query(query: str, *, platform: str, include_retweets: bool = False) -> str:
    """The query as stored and sent to `platform`, or QueryError saying what is wrong."""
    try:
        return registry.profile(platform).normalise_query(query, include_reposts=include_retweets)
    except InvalidQuery as exc:
        raise QueryError(str(exc)) from exc


def _pick_account(conn: sa.Connection, account_id: int | None) -> int:
    if account_id is not None:
        if conn.execute(sa.select(accounts.c.id).where(accounts.c.id == account_id)).first() is None:
            raise AccountError(f"no account with id {account_id}: see `flockdesk accounts list`")
        return account_id
    ids = list(conn.execute(sa.select(accounts.c.id).where(accounts.c.active.is_(True))).scalars())
    if not ids:
        raise AccountError(
            "no account connected yet: run `flockdesk accounts add x --base-url URL --token TOKEN`"
        )
    if len(ids) > 1:
        raise AccountError(
            "several accounts are connected: choose one with --account-id (see `accounts list`)"
        )
    return int(ids[0])


def add_search_source(
    engine: Engine,
    settings: Settings,
    query: str,
    *,
    account_id: int | None = None,
    include_retweets: bool = False,
    poll_interval_s: float | None = None,
    expected_posts_per_day: int | None = None,
    actor_id: int | None = None,
) -> SourceInfo:
    with engine.begin() as conn:
        actor = audit.admin_actor(conn, actor_id)
        acc = _pick_account(conn, account_id)
        platform = conn.execute(sa.select(accounts.c.platform).where(accounts.c.id == acc)).scalar_one()
        normalised = normalise_query(query, platform=platform, include_retweets=include_retweets)
        dup = conn.execute(
            sa.select(sources.c.id).where(
                sources.c.account_id == acc, sources.c.kind == "search", sources.c.query == normalised
            )
        ).scalar()
        if dup is not None:
            raise QueryError(f"this query is already source {dup}")
        now = utcnow()
        source_id = conn.execute(
            sources.insert()
            .values(
                account_id=acc,
                kind="search",
                query=normalised,
                enabled=True,
                poll_interval_s=poll_interval_s or default_interval(settings, "search"),
                expected_posts_per_day=expected_posts_per_day,
                next_poll_at=now,
                created_at=now,
            )
            .returning(sources.c.id)
        ).scalar_one()
        audit.record(
            conn,
            actor_id,
            actor,
            "source.add",
            "source",
            source_id,
            {"account_id": acc, "query": normalised, "expected_posts_per_day": expected_posts_per_day},
        )
    return get_source(engine, source_id)


def _select() -> sa.Select[tuple[object, ...]]:
    return (
        sa.select(
            sources,
            accounts.c.username.label("account_username"),
            accounts.c.platform,
            sync_cursors.c.since_id,
            sync_cursors.c.next_token,
        )
        .join(accounts, accounts.c.id == sources.c.account_id)
        .outerjoin(sync_cursors, sync_cursors.c.source_id == sources.c.id)
    )


def _info(r: sa.RowMapping) -> SourceInfo:
    return SourceInfo(
        r["id"],
        r["account_id"],
        r["account_username"],
        r["platform"],
        r["kind"],
        r["query"],
        bool(r["enabled"]),
        float(r["poll_interval_s"]),
        r["next_poll_at"],
        r["last_polled_at"],
        r["last_error"],
        r["since_id"],
        r["next_token"],
    )


def list_sources(engine: Engine) -> list[SourceInfo]:
    with engine.connect() as conn:
        return [_info(r) for r in conn.execute(_select().order_by(sources.c.id)).mappings()]


def get_source(engine: Engine, source_id: int) -> SourceInfo:
    with engine.connect() as conn:
        row = conn.execute(_select().where(sources.c.id == source_id)).mappings().first()
    if row is None:
        raise QueryError(f"no source with id {source_id}: see `flockdesk sources list`")
    return _info(row)


def remove_source(engine: Engine, source_id: int, *, actor_id: int | None = None) -> None:
    """Delete a source and its cursor (stored messages stay; dead letters keep a NULL source)."""
    with engine.begin() as conn:
        actor = audit.admin_actor(conn, actor_id)
        row = conn.execute(
            sources.delete()
            .where(sources.c.id == source_id)
            .returning(sources.c.account_id, sources.c.kind, sources.c.query)
        ).first()
        if row is None:
            raise QueryError(f"no source with id {source_id}: see `flockdesk sources list`")
        audit.record(
            conn,
            actor_id,
            actor,
            "source.remove",
            "source",
            source_id,
            {"account_id": row.account_id, "kind": row.kind, "query": row.query},
        )


def set_enabled(engine: Engine, source_id: int, enabled: bool, *, actor_id: int | None = None) -> None:
    with engine.begin() as conn:
        actor = audit.admin_actor(conn, actor_id)
        if (
            conn.execute(sources.update().where(sources.c.id == source_id).values(enabled=enabled)).rowcount
            == 0
        ):
            raise QueryError(f"no source with id {source_id}: see `flockdesk sources list`")
        audit.record(conn, actor_id, actor, "source.change", "source", source_id, {"enabled": enabled})


def make_due(engine: Engine, account_id: int, *, kinds: tuple[str, ...], now: datetime) -> int:
    """Poll the account's sources of these kinds at once (real-time delivery missed more than it can
    replay); returns how many were moved forward."""
    with engine.begin() as conn:
        return int(
            conn.execute(
                sources.update()
                .where(
                    sources.c.account_id == account_id,
                    sources.c.kind.in_(kinds),
                    sources.c.enabled.is_(True),
                    sa.or_(sources.c.next_poll_at.is_(None), sources.c.next_poll_at > now),
                )
                .values(next_poll_at=now)
            ).rowcount
        )
