"""A source's sync cursor as the sweep reads it (jobs/sweep.py); the ingestor writes it with each page
(services/ingest/write.py)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.store.schema import sync_cursors


def load_cursor(engine: Engine, source_id: int) -> tuple[str | None, str | None, str | None]:
    """(since_id, pending_newest_id, next_token) of the source; all None before its first page."""
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(
                sync_cursors.c.since_id, sync_cursors.c.pending_newest_id, sync_cursors.c.next_token
            ).where(sync_cursors.c.source_id == source_id)
        ).first()
    return (row[0], row[1], row[2]) if row else (None, None, None)
