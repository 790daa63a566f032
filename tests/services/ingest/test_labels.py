"""Labels filled in after storage raise a waiting conversation's priority, and the history says so
(SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.domain.types import InboundItem
from flockdesk.services.conversations import history
from flockdesk.services.ingest.labels import fill_missing_labels
from flockdesk.store.schema import conversations
from tests.services.seed import T0, account, contact, conversation, message


def _triage(items: Sequence[InboundItem]) -> list[dict[str, Any]]:
    return [{"intent": "complaint", "priority": 0.95 if "lost" in i.text else 0.1} for i in items]


def test_a_raised_priority_is_a_relabel_row_in_the_history(engine: Engine) -> None:
    acct = account(engine)
    ct = contact(engine, external_id="77", username="kim")
    waiting = conversation(engine, acct, ct, priority=0.3)
    message(engine, waiting, "@acme my bag is lost", contact_id=ct)
    calm = conversation(engine, acct, ct, priority=0.3)
    message(engine, calm, "@acme thanks", contact_id=ct)  # labelled 0.1: lower, nothing changes
    answered = conversation(engine, acct, ct, priority=0.0, waiting_since=None)
    message(engine, answered, "@acme I lost it again", contact_id=ct)  # nobody waits: unchanged

    assert fill_missing_labels(engine, triage=_triage) == 3

    with engine.connect() as conn:
        prio = dict(conn.execute(sa.select(conversations.c.id, conversations.c.priority)).all())
    assert prio == {waiting: 0.95, calm: 0.3, answered: 0.0}
    (event,) = history.timeline(engine, waiting)
    assert (event.kind, event.actor, event.from_status, event.to_status) == (
        "relabel",
        "system",
        "open",
        "open",
    )
    assert event.changes == {"priority": [0.3, 0.95]}
    assert event.at > T0
    assert history.timeline(engine, calm) == [] and history.timeline(engine, answered) == []
