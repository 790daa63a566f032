"""Opt-outs arriving by DM (domain/opt_out.py): the contact is marked opted out for good (the time of
their DM and what they wrote), and one automated acknowledgement is queued through the outbox.

In the ingest transaction, so a stored opt-out is never without its flag. The acknowledgement's
idempotency key names the account and the person: however often they write "stop", or the page is
replayed, one acknowledgement is queued. An opt-out older than ACK_WINDOW (a backfill, an import) is
recorded but not acknowledged: a reply days later would be the unsolicited message it asked to stop.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import Connection

from flockdesk.domain.opt_out import is_opt_out
from flockdesk.domain.types import InboundItem
from flockdesk.domain.utc import as_utc
from flockdesk.services.replies.outbox import enqueue
from flockdesk.services.replies.policy import OPT_OUT_ACK_KEY
from flockdesk.store.schema import contacts

ACK_WINDOW = timedelta(hours=24)
ACK_TEXT = "You're unsubscribed: we won't message you again. If you ever need us, just write to us here."


def opt_outs(items: Sequence[InboundItem], org_id: str) -> list[InboundItem]:
    """The customers' DMs among these that opt out."""
    return [i for i in items if i.thread_kind == "dm" and i.author_id != org_id and is_opt_out(i.text)]


def record(
    conn: Connection,
    account_id: int,
    org_id: str,
    items: Sequence[InboundItem],
    conversation_of: Mapping[str, int],
    now: datetime,
) -> int:
    """Mark the senders of opt-out DMs and queue each one acknowledgement; returns how many opted out."""
    found = opt_outs(items, org_id)
    for item in sorted(found, key=lambda i: as_utc(i.created_at)):
        conn.execute(
            contacts.update()
            .where(
                contacts.c.platform == item.platform,
                contacts.c.external_id == item.author_id,
                contacts.c.opted_out_at.is_(None),
            )
            .values(opted_out_at=as_utc(item.created_at), opted_out_reason=f"DM: {item.text[:200]}")
        )
        if as_utc(item.created_at) < now - ACK_WINDOW:
            continue
        enqueue(
            conn,
            account_id=account_id,
            kind="dm",
            text=ACK_TEXT,
            conversation_id=conversation_of.get(item.external_id),
            recipient=item.author_id,
            idempotency_key=f"{OPT_OUT_ACK_KEY}{account_id}:{item.author_id}",
            origin="automated",
        )
    return len(found)
