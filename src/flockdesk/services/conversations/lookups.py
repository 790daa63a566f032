"""Small read models the web pages need besides the inbox services: filter choices, the newest
unacknowledged alert, and cheap change markers for live updates. Read-only."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.services.monitoring.alerts import Alert, latest_unacknowledged
from flockdesk.store.schema import accounts, audit_events, messages, outbox, tags, users


@dataclass(frozen=True, slots=True)
class Choice:
    id: int
    label: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class FilterChoices:
    accounts: list[Choice]
    people: list[Choice]
    tag_names: list[str]


def filter_choices(engine: Engine) -> FilterChoices:
    """Accounts, active teammates and tag names, for the inbox filters."""
    with engine.connect() as conn:
        accts = conn.execute(
            sa.select(accounts.c.id, accounts.c.username, accounts.c.purpose).order_by(accounts.c.username)
        ).all()
        people = conn.execute(
            sa.select(users.c.id, users.c.username).where(users.c.active.is_(True)).order_by(users.c.username)
        ).all()
        names = conn.execute(sa.select(tags.c.name).order_by(tags.c.name)).scalars().all()
    return FilterChoices(
        [Choice(int(a.id), a.username, a.purpose) for a in accts],
        [Choice(int(p.id), p.username) for p in people],
        list(names),
    )


def latest_unacknowledged_alert(engine: Engine) -> Alert | None:
    """The spike alert banner of every page (services/monitoring/alerts.py)."""
    return latest_unacknowledged(engine)


def change_markers(engine: Engine) -> dict[str, int]:
    """Newest message / outbox / audit ids and the number of unsettled outbox rows (index-only reads)."""
    with engine.connect() as conn:
        return {
            "max_message_id": conn.execute(sa.select(sa.func.max(messages.c.id))).scalar() or 0,
            "max_outbox_id": conn.execute(sa.select(sa.func.max(outbox.c.id))).scalar() or 0,
            "outbox_unsettled": conn.execute(
                sa.select(sa.func.count())
                .select_from(outbox)
                .where(outbox.c.status.in_(("queued", "sending")))
            ).scalar()
            or 0,
            "max_audit_id": conn.execute(sa.select(sa.func.max(audit_events.c.id))).scalar() or 0,
        }


def account_labels(engine: Engine) -> dict[int, str]:
    """Account id -> @username, only when more than one account is connected (rows then say which)."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(accounts.c.id, accounts.c.username).limit(1000)).all()
    return {int(r.id): r.username for r in rows} if len(rows) > 1 else {}
