"""The schedule that every worker shares: source polls and periodic jobs, each held by one worker at
a time under a lease (store/leases.py), each with its next due time in the store.

A source is due at `sources.next_poll_at`; a job at `job_leases.next_run_at`. A worker claims one,
runs it and gives it back with its next due time in one statement. A worker that stops gives back
what it holds; a killed one's leases run out after the lease TTL and another worker takes over.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.store import leases
from flockdesk.store.leases import JOBS, SOURCES
from flockdesk.store.schema import accounts, job_leases, sources


def new_owner() -> str:
    """A name for one worker's leases: host, process and a random part (two workers in one process)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _pollable() -> list[sa.ColumnElement[bool]]:
    active = sa.select(accounts.c.id).where(accounts.c.active.is_(True))
    return [sources.c.enabled.is_(True), sources.c.account_id.in_(active.scalar_subquery())]


# ---- sources ---------------------------------------------------------------------------------


def claim_source(
    engine: Engine,
    owner: str,
    *,
    now: datetime,
    ttl_s: float,
    due_only: bool = True,
    exclude: Collection[int] = (),
) -> Mapping[Any, Any] | None:
    """Lease the most overdue enabled source of an active account that no other worker holds; returns
    the source row plus its account's `external_user_id`, or None when nothing is due."""
    with engine.begin() as conn:
        got = leases.claim(
            conn, SOURCES, owner, now=now, ttl_s=ttl_s, where=_pollable(), due_only=due_only, exclude=exclude
        )
        if not got:
            return None
        q = (
            sa.select(sources, accounts.c.external_user_id)
            .join(accounts, accounts.c.id == sources.c.account_id)
            .where(sources.c.id == got[0])
        )
        return conn.execute(q).mappings().one()


def finish_poll(
    engine: Engine, source_id: int, owner: str, *, due_at: datetime, polled_at: datetime, error: str | None
) -> bool:
    """Give the source back with its next poll time; False if the lease had run out and another worker
    took the source over (its schedule stands)."""
    with engine.begin() as conn:
        return leases.release(
            conn,
            SOURCES,
            source_id,
            owner,
            next_poll_at=due_at,
            last_polled_at=polled_at,
            last_error=error,
            **({"last_success_at": polled_at} if error is None else {}),
        )


# ---- periodic jobs ---------------------------------------------------------------------------


def ensure_jobs(engine: Engine, names: Collection[str], *, now: datetime) -> None:
    """Make sure each registered job has its schedule row (a new job is due at once)."""
    with engine.begin() as conn:
        leases.ensure_jobs(conn, names, now=now)


def claim_job(
    engine: Engine,
    owner: str,
    names: Collection[str],
    *,
    now: datetime,
    ttl_s: float,
    due_only: bool = True,
    exclude: Collection[str] = (),
) -> str | None:
    """Lease the most overdue of the named jobs that no other worker holds, or None."""
    if not names:
        return None
    with engine.begin() as conn:
        got = leases.claim(
            conn,
            JOBS,
            owner,
            now=now,
            ttl_s=ttl_s,
            where=[job_leases.c.name.in_(list(names))],
            due_only=due_only,
            exclude=exclude,
        )
        if got:
            conn.execute(job_leases.update().where(job_leases.c.name == got[0]).values(last_started_at=now))
    return str(got[0]) if got else None


def finish_job(
    engine: Engine, name: str, owner: str, *, next_run_at: datetime, finished_at: datetime, error: str | None
) -> bool:
    with engine.begin() as conn:
        return leases.release(
            conn,
            JOBS,
            name,
            owner,
            next_run_at=next_run_at,
            last_finished_at=finished_at,
            last_error=error,
        )


def job_states(engine: Engine) -> list[dict[str, Any]]:
    """Each job's schedule row, for `flockdesk status`."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(job_leases).order_by(job_leases.c.name)).mappings().all()
    return [dict(r) for r in rows]


# ---- both ------------------------------------------------------------------------------------


def renew(engine: Engine, owner: str, *, now: datetime, ttl_s: float) -> int:
    """The worker's heartbeat: extend every lease it holds; returns how many."""
    with engine.begin() as conn:
        return leases.renew(conn, SOURCES, owner, now=now, ttl_s=ttl_s) + leases.renew(
            conn, JOBS, owner, now=now, ttl_s=ttl_s
        )


def release_all(engine: Engine, owner: str) -> int:
    """A stopping worker gives back everything it holds, so others need not wait for the TTL."""
    with engine.begin() as conn:
        return leases.release_all(conn, SOURCES, owner) + leases.release_all(conn, JOBS, owner)


def next_due(engine: Engine, job_names: Collection[str], *, now: datetime) -> datetime | None:
    """When the next source or job can be claimed: its due time, or when another worker's lease on it
    runs out; None when there is nothing at all."""
    with engine.connect() as conn:
        rows = leases.next_free_at(conn, SOURCES, _pollable())
        if job_names:
            rows += leases.next_free_at(conn, JOBS, [job_leases.c.name.in_(list(job_names))])
    best: datetime | None = None
    for due, until in rows:
        at = due if due is not None else now
        if until is not None and until > at:
            at = until
        best = at if best is None or at < best else best
    return best


# ---- long-lived named leases (the real-time stream: one holder across all workers) ---------------


def claim_lease(engine: Engine, name: str, owner: str, *, now: datetime, ttl_s: float) -> bool:
    """Take the named lease when it is free (or already ours); the worker's heartbeat (`renew`) keeps
    it while the holder runs, and `release_all` gives it back when the worker stops."""
    with engine.begin() as conn:
        leases.ensure_jobs(conn, [name], now=now)
        if holds(conn, name, owner, now=now):
            return True
        got = leases.claim(
            conn, JOBS, owner, now=now, ttl_s=ttl_s, where=[job_leases.c.name == name], due_only=False
        )
        if got:
            conn.execute(job_leases.update().where(job_leases.c.name == name).values(last_started_at=now))
        return bool(got)


def holds(conn: Any, name: str, owner: str, *, now: datetime) -> bool:
    row = conn.execute(
        sa.select(job_leases.c.owner, job_leases.c.leased_until).where(job_leases.c.name == name)
    ).first()
    return row is not None and row.owner == owner and row.leased_until is not None and row.leased_until > now


def still_holds(engine: Engine, name: str, owner: str, *, now: datetime) -> bool:
    with engine.connect() as conn:
        return holds(conn, name, owner, now=now)


def release_lease(engine: Engine, name: str, owner: str, *, now: datetime, error: str | None = None) -> bool:
    with engine.begin() as conn:
        return leases.release(
            conn, JOBS, name, owner, next_run_at=now, last_finished_at=now, last_error=error
        )
