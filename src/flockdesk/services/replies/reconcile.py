"""Finding a send whose answer was lost: before the outbox calls an in-flight row failed, and before it
sends a retry of a row that was interrupted mid-send, it reads what the account itself posted (or
DM'd) on the platform since the attempt was claimed.

A public post of the brand never comes back through mentions or search, so without this read a post
that landed while its answer was lost looked failed, and Retry posted it a second time.

Match: the account's own post (or DM) created after the claim (less CLOCK_SKEW), with the row's text
(compared without leading @handles, as the platform's HandleRules define them, links and spacing, which
the platform may rewrite), answering the
same post (or DM'ing the same person), whose id no other outbox row holds yet. The read costs one owned
read per post returned (X: GET /2/users/:id/tweets, $0.001) or one DM event read per event.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.connectors import registry
from flockdesk.connectors.base import DMReader, FetchedPage, HandleRules, OwnPostsReader
from flockdesk.domain.types import InboundItem
from flockdesk.domain.utc import as_utc
from flockdesk.store.schema import accounts, outbox

CLOCK_SKEW = timedelta(minutes=2)  # the platform's clock against ours
MAX_PAGES = 3  # newest first: a lost answer is recent, so a few pages reach back far enough
INTERRUPTED_PREFIX = "interrupted mid-send:"

_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)


def interrupted(platform_name: str) -> str:
    """The error of a row whose send was cut off: only the platform can say whether it landed."""
    return f"{INTERRUPTED_PREFIX} check {platform_name} before retrying"


def comparable(text: str, handles: HandleRules) -> str:
    """The text as sent and as read back compare equal: HTML entities, leading @handles (added to a
    reply), links (shortened) and runs of spaces are what the platform may change."""
    text = handles.strip_leading_mentions(html.unescape(text).strip())
    text = _URL.sub("<link>", text)
    return " ".join(text.split())


def can_check(row: Mapping[str, Any], connector: object) -> bool:
    """Whether this connector can read back what this row would have sent."""
    if row["kind"] == "dm":
        return isinstance(connector, DMReader)
    return isinstance(connector, OwnPostsReader)


def _account(engine: Engine, account_id: int) -> tuple[str, str] | None:
    """The account's (platform user id, platform)."""
    with engine.connect() as conn:
        found = conn.execute(
            sa.select(accounts.c.external_user_id, accounts.c.platform).where(accounts.c.id == account_id)
        ).first()
    return (str(found.external_user_id), str(found.platform)) if found else None


def _taken(engine: Engine, external_ids: list[str], outbox_id: int) -> set[str]:
    if not external_ids:
        return set()
    with engine.connect() as conn:
        return {
            str(r[0])
            for r in conn.execute(
                sa.select(outbox.c.external_id).where(
                    outbox.c.external_id.in_(external_ids), outbox.c.id != outbox_id
                )
            )
        }


def _matches(
    row: Mapping[str, Any], item: InboundItem, me: str, since: datetime, handles: HandleRules
) -> bool:
    if item.author_id != me or as_utc(item.created_at) < since:
        return False
    if comparable(item.text, handles) != comparable(row["text"], handles):
        return False
    if row["kind"] == "dm":
        return bool(item.recipient_id == row["recipient_external_id"])
    return bool(item.in_reply_to_external_id == row["in_reply_to_external_id"])


def _pages(row: Mapping[str, Any], connector: Any, me: str, since: datetime) -> list[FetchedPage]:
    pages: list[FetchedPage] = []
    token: str | None = None
    for _ in range(MAX_PAGES):
        if row["kind"] == "dm":
            page = connector.fetch_dm_events(pagination_token=token)
        else:
            page = connector.fetch_own_posts(me, since=since, pagination_token=token)
        pages.append(page)
        token = page.page.next_token
        items = page.page.items
        if not token or (items and min(as_utc(i.created_at) for i in items) < since):
            break  # the rest is older than the attempt
    return pages


def find_sent(engine: Engine, row: Mapping[str, Any], connector: object, claimed_at: datetime) -> str | None:
    """The platform id of what this row (or an earlier attempt of it, claimed at `claimed_at`) already
    sent, or None when nothing matching is there (or the connector cannot read it back). A failed read
    raises the connector's error: the caller decides what not knowing means."""
    if not can_check(row, connector):
        return None
    account = _account(engine, row["account_id"])
    if account is None:
        return None
    me, platform = account
    handles = registry.profile(platform)
    since = as_utc(claimed_at) - CLOCK_SKEW
    found = [
        item
        for fetched in _pages(row, connector, me, since)
        for item in fetched.page.items
        if _matches(row, item, me, since, handles)
    ]
    taken = _taken(engine, [i.external_id for i in found], row["id"])
    free = sorted((i for i in found if i.external_id not in taken), key=lambda i: as_utc(i.created_at))
    return free[0].external_id if free else None


def interrupted_claim(engine: Engine, row: Mapping[str, Any]) -> datetime | None:
    """For a retry row: when the earliest earlier attempt that was interrupted mid-send was claimed
    (its post may have landed), else None (nothing to check before sending)."""
    base = str(row["idempotency_key"]).split("#retry")[0]
    with engine.connect() as conn:
        claims = conn.execute(
            sa.select(outbox.c.claimed_at, outbox.c.created_at).where(
                outbox.c.id != row["id"],
                outbox.c.status == "failed",
                outbox.c.error.startswith(INTERRUPTED_PREFIX),
                sa.or_(
                    outbox.c.idempotency_key == base,
                    outbox.c.idempotency_key.startswith(f"{base}#retry", autoescape=True),
                ),
            )
        ).all()
    return min((c.claimed_at or c.created_at for c in claims), default=None)
