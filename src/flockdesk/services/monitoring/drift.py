"""Request parameters the platform's API refused, kept per source (`sources.degraded`).

A connector that adapts to an API that drifts from its spec (connectors.base.DriftAware) learns, from
a 400 that names a parameter, what to drop or respell. Stored per source, what it learnt survives a
restart and is shared by every worker, so the refused request is made once rather than on every
poll, and the account health page shows it (services/monitoring/health.py). The parameter names
are the platform's own and opaque here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.connectors.base import Degradation
from flockdesk.domain.utc import utcnow
from flockdesk.store.schema import sources


def _to_json(d: Degradation, at: datetime) -> dict[str, Any]:
    return {
        "parameter": d.parameter,
        "value": d.value,
        "replacement": d.replacement,
        "detail": d.detail,
        "at": at.isoformat(),
    }


def from_json(raw: Any) -> list[Degradation]:
    """The stored list, skipping entries that are not objects with a parameter."""
    out: list[Degradation] = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("parameter"), str):
            continue
        value, repl, detail = item.get("value"), item.get("replacement"), item.get("detail")
        out.append(
            Degradation(
                item["parameter"],
                value if isinstance(value, str) else None,
                repl if isinstance(repl, str) else None,
                detail if isinstance(detail, str) else "",
            )
        )
    return out


def load(engine: Engine, source_id: int) -> list[Degradation]:
    with engine.connect() as conn:
        raw = conn.execute(sa.select(sources.c.degraded).where(sources.c.id == source_id)).scalar()
    return from_json(raw)


def record(
    engine: Engine, source_id: int, current: Sequence[Degradation], *, now: datetime | None = None
) -> list[Degradation]:
    """Store the source's degradations when they differ from the stored ones; returns those that are
    new (the caller logs them, once). An empty list clears them (the API took everything again)."""
    now = now or utcnow()
    with engine.begin() as conn:
        raw = conn.execute(sa.select(sources.c.degraded).where(sources.c.id == source_id)).scalar()
        stored = from_json(raw)
        if list(current) == stored:
            return []
        first_seen = {d: at for d, at in stored_at(raw)}
        rows = [_to_json(d, now) | ({"at": first_seen[d]} if first_seen.get(d) else {}) for d in current]
        conn.execute(sources.update().where(sources.c.id == source_id).values(degraded=rows or None))
    return [d for d in current if d not in stored]


def stored_at(raw: Any) -> list[tuple[Degradation, str | None]]:
    """Each stored degradation with when it was first seen (ISO 8601), for display."""
    items = raw if isinstance(raw, list) else []
    found = from_json(items)
    whens = [i.get("at") for i in items if isinstance(i, dict) and isinstance(i.get("parameter"), str)]
    return [(d, w if isinstance(w, str) else None) for d, w in zip(found, whens, strict=True)]
