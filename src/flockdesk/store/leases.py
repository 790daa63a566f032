"""Leases: which worker runs a periodic job or polls a source now, and until when.

A lease row has a key, a due time, an owner and `leased_until`. A worker claims rows that are due and
free (no owner, or a lease that ran out because its worker was killed), runs them, renews its leases
while it works, and releases each row together with its next due time.

PostgreSQL: one `UPDATE ... WHERE key IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING key`, so two
workers never wait on each other and never claim the same row; the row lock makes PostgreSQL check
"free and due" again on the row's latest version. SQLite: the same single UPDATE inside the store's
`BEGIN IMMEDIATE` writer transaction (`engine.begin()`), so claims are serialised by the one writer.
Callers pass the time (`now`) so that tests can move it; workers on several hosts need clocks that
agree to well within the lease TTL.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from flockdesk.store.dialect import upsert
from flockdesk.store.schema import job_leases, sources


@dataclass(frozen=True)
class LeaseTable:
    table: sa.Table
    key: str
    due: str
    owner: str
    until: str

    def col(self, name: str) -> sa.Column[Any]:
        return self.table.c[name]


JOBS = LeaseTable(job_leases, key="name", due="next_run_at", owner="owner", until="leased_until")
SOURCES = LeaseTable(sources, key="id", due="next_poll_at", owner="lease_owner", until="leased_until")


def free(lt: LeaseTable, now: datetime) -> sa.ColumnElement[bool]:
    """No worker holds the row, or its lease has run out."""
    owner, until = lt.col(lt.owner), lt.col(lt.until)
    return sa.or_(owner.is_(None), until.is_(None), until < now)


def claim(
    conn: Connection,
    lt: LeaseTable,
    owner: str,
    *,
    now: datetime,
    ttl_s: float,
    where: Sequence[sa.ColumnElement[bool]] = (),
    due_only: bool = True,
    exclude: Collection[Any] = (),
    limit: int = 1,
) -> list[Any]:
    """Lease up to `limit` free rows (due ones only unless `due_only=False`), most overdue first;
    returns their keys. Run it in `engine.begin()`."""
    key, due = lt.col(lt.key), lt.col(lt.due)
    cond = [free(lt, now), *where]
    if due_only:
        cond.append(sa.or_(due.is_(None), due <= now))
    if exclude:
        cond.append(key.not_in(list(exclude)))
    pick = sa.select(key).where(*cond).order_by(due.asc().nulls_first(), key).limit(limit)
    if conn.dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    stmt = (
        lt.table.update()
        .where(key.in_(pick.scalar_subquery()))
        .values({lt.owner: owner, lt.until: now + timedelta(seconds=ttl_s)})
        .returning(key)
    )
    return list(conn.execute(stmt).scalars())


def release(conn: Connection, lt: LeaseTable, key: Any, owner: str, **values: Any) -> bool:
    """Give the row back with new values (its next due time ...) if `owner` still holds it; False
    when its lease ran out and another worker took it (that worker's schedule then stands)."""
    stmt = (
        lt.table.update()
        .where(lt.col(lt.key) == key, lt.col(lt.owner) == owner)
        .values({lt.owner: None, lt.until: None, **values})
    )
    return bool(conn.execute(stmt).rowcount)


def renew(conn: Connection, lt: LeaseTable, owner: str, *, now: datetime, ttl_s: float) -> int:
    """Extend every lease `owner` holds (the worker's heartbeat); returns how many."""
    stmt = (
        lt.table.update().where(lt.col(lt.owner) == owner).values({lt.until: now + timedelta(seconds=ttl_s)})
    )
    return int(conn.execute(stmt).rowcount)


def release_all(conn: Connection, lt: LeaseTable, owner: str) -> int:
    """Give back every lease `owner` holds (a worker that stops), schedules unchanged."""
    stmt = lt.table.update().where(lt.col(lt.owner) == owner).values({lt.owner: None, lt.until: None})
    return int(conn.execute(stmt).rowcount)


def ensure_jobs(conn: Connection, names: Collection[str], *, now: datetime) -> None:
    """A job_leases row for each job name (due now when new); existing rows keep their schedule."""
    if not names:
        return
    ins = upsert(conn, job_leases)
    conn.execute(
        ins.on_conflict_do_nothing(index_elements=["name"]),
        [{"name": n, "next_run_at": now} for n in sorted(names)],
    )


def next_free_at(
    conn: Connection, lt: LeaseTable, where: Sequence[sa.ColumnElement[bool]] = ()
) -> list[tuple[datetime | None, datetime | None]]:
    """(due, leased_until) of each row, for working out when the next one can be claimed."""
    rows = conn.execute(sa.select(lt.col(lt.due), lt.col(lt.until)).where(*where))
    return [(r[0], r[1]) for r in rows]
