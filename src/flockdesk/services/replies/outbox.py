"""The outbox sender: the only code that calls a platform's send APIs.

Life of a row: queued -> sending (claimed in its own committed transaction; on PostgreSQL with
`FOR UPDATE SKIP LOCKED`, on SQLite under the single `BEGIN IMMEDIATE` writer) -> the platform call ->
sent (with the external id, and the outbound message stored in its conversation, one transaction)
or failed (with the platform's reason).

At most once: a row found in 'sending' (the worker died mid-send, or the platform timed out) is never
sent again. It becomes 'sent' when its echo comes back through the API (services/ingest/ingestor.py matches
it), or when, after a grace period, the account's own recent posts (or DMs) show it landed
(services/replies/reconcile.py); else it becomes 'failed' with "interrupted mid-send: check X before
retrying" (the platform's display name, from its profile in the connector registry). Retrying is an
explicit action (`retry`) that creates a new row, a new attempt; before that attempt is sent, the same
read looks for the interrupted attempt's post, and a match settles the retry as sent with that post
instead of posting again.

Channel rule (invariant 1): a `dm` row goes only through the DM API; `reply` and `public_ack` rows
only through the post API, and never into a DM conversation. A `native_reply` row never goes through
any API: a person posts it on the platform (status `awaiting_native`, services/replies/native.py).

Platform rules: before the call, the platform's policy is asked once more (services/replies/policy.py);
a row it does not allow through the API fails with the policy's reason and is not sent.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine, RowMapping
from sqlalchemy.exc import IntegrityError

from flockdesk.connectors import registry
from flockdesk.connectors.base import (
    ChatSender,
    ConnectorError,
    MalformedResponse,
    RateLimited,
    Sender,
    TransientError,
)
from flockdesk.domain import conversation_state
from flockdesk.domain.errors import Conflict, InvalidInput, NotFound
from flockdesk.domain.types import SendResult
from flockdesk.domain.utc import utcnow
from flockdesk.domain.vocabulary import (
    LIVE_OUTBOX_STATUSES,
    OUTBOX_KINDS,
    OUTBOX_ORIGINS,
    PUBLIC_OUTBOX_KINDS,
    TRANSPORTS,
    OutboxOrigin,
)
from flockdesk.services.conversations import state as state_svc
from flockdesk.services.replies import policy, reconcile
from flockdesk.services.replies.reconcile import interrupted
from flockdesk.store.schema import accounts, conversations, messages, outbox

log = logging.getLogger(__name__)

DEFAULT_GRACE_S = 300.0
# a row whose fate cannot be read back (rate limit, outage) stays in doubt this long, then fails
MAX_DOUBT = timedelta(days=1)
# what a retry takes from the failed row (the rest is new: key, status, attempts, times)
RETRY_COPIES = (
    "account_id",
    "conversation_id",
    "kind",
    "text",
    "in_reply_to_external_id",
    "recipient_external_id",
    "origin",
    "transport",
    "quick_reply",
)
POLICY_REFUSED = "not sent: against {platform}'s rules:"  # the error of a row the policy refused


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    requeued: int = 0
    in_doubt: int = 0  # left in 'sending' for the echo to settle
    interrupted: int = 0  # 'sending' rows failed after the grace period
    found_sent: int = 0  # in-flight rows (or retries) found already on the platform
    blocked_accounts: dict[int, float | None] = field(default_factory=dict)  # account -> reset_at


def _transaction(db: Engine | Connection) -> AbstractContextManager[Connection]:
    """A new transaction on an Engine; the caller's own on a Connection."""
    return db.begin() if isinstance(db, Engine) else nullcontext(db)


def enqueue(
    db: Engine | Connection,
    *,
    account_id: int,
    kind: str,
    text: str,
    conversation_id: int | None = None,
    in_reply_to: str | None = None,
    recipient: str | None = None,
    idempotency_key: str | None = None,
    created_by: int | None = None,
    origin: OutboxOrigin = "agent",
    transport: str | None = None,
    quick_reply: dict[str, Any] | None = None,
) -> int:
    """Queue one outbound message; the same idempotency key never makes a second row. The one place
    an outbox row is created: given a Connection, inside the caller's transaction. A `native_reply`
    is made `awaiting_native` (a person posts it), every other kind `queued` (the sender sends it)."""
    if kind not in OUTBOX_KINDS:
        raise InvalidInput(f"outbox kind must be one of {', '.join(OUTBOX_KINDS)}")
    if origin not in OUTBOX_ORIGINS:
        raise InvalidInput(f"outbox origin must be one of {', '.join(OUTBOX_ORIGINS)}")
    if kind == "dm" and not recipient:
        raise InvalidInput("a DM needs the recipient's platform user id")
    if not text.strip():
        raise InvalidInput("the message is empty")
    if transport is not None and (kind != "dm" or transport not in TRANSPORTS):
        raise InvalidInput(f"a transport ({', '.join(TRANSPORTS)}) is only for a DM")
    if quick_reply is not None and transport != "xchat":
        raise InvalidInput("quick replies go only in X Chat DMs")
    values = dict(
        idempotency_key=idempotency_key or uuid.uuid4().hex,
        account_id=account_id,
        conversation_id=conversation_id,
        kind=kind,
        text=text,
        in_reply_to_external_id=in_reply_to,
        recipient_external_id=recipient,
        created_by=created_by,
        origin=origin,
        transport=transport if kind == "dm" else None,
        quick_reply=quick_reply,
    )
    with _transaction(db) as conn:
        return _insert_once(conn, values)[0]


def _insert_once(conn: Connection, values: dict[str, Any]) -> tuple[int, bool]:
    """A queued row with these values: (its id, True), or (the id of the row that already has this
    idempotency key, False)."""
    key = values["idempotency_key"]
    found = conn.execute(sa.select(outbox.c.id).where(outbox.c.idempotency_key == key)).scalar()
    if found is not None:
        return int(found), False
    status = "awaiting_native" if values["kind"] == "native_reply" else "queued"
    new_id = conn.execute(
        outbox.insert()
        .values(**values, status=status, attempts=0, created_at=utcnow())
        .returning(outbox.c.id)
    ).scalar_one()
    return int(new_id), True


def claim_next(
    engine: Engine,
    *,
    exclude_accounts: set[int] | None = None,
    exclude_dms_of: set[int] | None = None,
) -> dict[str, Any] | None:
    """Move the oldest queued row to 'sending' and commit; None when nothing is queued.
    exclude_dms_of: accounts whose DMs wait (their DM quota is spent) while their posts may go."""
    with engine.begin() as conn:
        q = sa.select(outbox).where(outbox.c.status == "queued").order_by(outbox.c.id).limit(1)
        if exclude_accounts:
            q = q.where(outbox.c.account_id.not_in(exclude_accounts))
        if exclude_dms_of:
            q = q.where(sa.or_(outbox.c.kind != "dm", outbox.c.account_id.not_in(exclude_dms_of)))
        q = q.with_for_update(skip_locked=True)  # PostgreSQL; SQLite's writer holds the one write lock
        row = conn.execute(q).mappings().first()
        if row is None:
            return None
        done = conn.execute(
            outbox.update()
            .where(outbox.c.id == row["id"], outbox.c.status == "queued")
            .values(status="sending", attempts=outbox.c.attempts + 1, claimed_at=utcnow(), error=None)
        )
        if done.rowcount != 1:
            return None
        return {**row, "status": "sending"}


def _conversation_kind(engine: Engine, conversation_id: int | None) -> str | None:
    if conversation_id is None:
        return None
    with engine.connect() as conn:
        return conn.execute(
            sa.select(conversations.c.kind).where(conversations.c.id == conversation_id)
        ).scalar()


def _rate_limited(platform_name: str) -> str:
    return f"rate limited by {platform_name}: will send after the reset"


def _platform_name(engine: Engine, account_id: int) -> str:
    with engine.connect() as conn:
        platform = conn.execute(sa.select(accounts.c.platform).where(accounts.c.id == account_id)).scalar()
    return _display_name(platform)


def _display_name(platform: str | None) -> str:
    try:
        return registry.profile(str(platform)).display_name
    except ValueError:  # an account of a platform this install no longer knows
        return f"the platform ({platform})"


def _dispatch(engine: Engine, row: Mapping[str, Any], connector: Sender) -> SendResult:
    """Invariant 1 lives here: the row's kind alone picks the API."""
    with engine.connect() as conn:
        decision = policy.for_row(conn, row)
    if decision is not None and not decision.allowed:
        name = _platform_name(engine, row["account_id"])
        raise InvalidInput(f"{POLICY_REFUSED.format(platform=name)} {decision.message}")
    if row["kind"] == "dm":
        if not row["recipient_external_id"]:
            raise InvalidInput("refused: a DM row without a recipient")
        if row.get("transport") == "xchat":  # encrypted and signed by the connector
            if not isinstance(connector, ChatSender):
                raise InvalidInput("refused: this account cannot send encrypted chat messages")
            return connector.send_chat(
                row["recipient_external_id"], row["text"], quick_reply=row.get("quick_reply")
            )
        return connector.send_dm(row["recipient_external_id"], row["text"])
    if row["kind"] in PUBLIC_OUTBOX_KINDS:
        if _conversation_kind(engine, row["conversation_id"]) == "dm":
            raise InvalidInput("refused: a DM conversation is never answered in public")
        return connector.send_post(row["text"], in_reply_to=row["in_reply_to_external_id"])
    raise InvalidInput(f"refused: unknown outbox kind {row['kind']!r}")


def _set(engine: Engine, outbox_id: int, **values: Any) -> None:
    with engine.begin() as conn:
        conn.execute(
            outbox.update().where(outbox.c.id == outbox_id, outbox.c.status == "sending").values(**values)
        )


def mark_sent(engine: Engine, row: Mapping[str, Any], result: SendResult) -> None:
    """Record the send and store the outbound message in its conversation, in one transaction."""
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(
            outbox.update()
            .where(outbox.c.id == row["id"])
            .values(status="sent", external_id=result.external_id, sent_at=now, error=None)
        )
        conv_id = row["conversation_id"]
        if conv_id is None:
            return  # the echo will be threaded by the ingestor (matched by external id)
        platform = conn.execute(
            sa.select(accounts.c.platform).where(accounts.c.id == row["account_id"])
        ).scalar()
        exists = conn.execute(
            sa.select(messages.c.id).where(
                messages.c.platform == platform, messages.c.external_id == result.external_id
            )
        ).first()
        if exists is None:
            conn.execute(
                messages.insert().values(
                    conversation_id=conv_id,
                    platform=platform,
                    external_id=result.external_id,
                    kind="dm" if row["kind"] == "dm" else "post",
                    direction="out",
                    text=row["text"],
                    in_reply_to_external_id=row["in_reply_to_external_id"],
                    created_at=now,
                    ingested_at=now,
                    outbox_id=row["id"],
                    transport=(row.get("transport") or "legacy") if row["kind"] == "dm" else None,
                    quick_reply=row.get("quick_reply"),
                )
            )
        # the same transition as the echo's arrival, so the inbox order does not wait for the echo
        state_svc.apply(
            conn,
            conv_id,
            "reply_sent",
            lambda state: conversation_state.reply_sent(state, now),
            actor_id=row.get("created_by"),
            at=now,
            detail={"outbox_id": row["id"], "outbox_kind": row["kind"]},
            record_unchanged=True,  # every reply sent is in the timeline, even one that changed no clock
        )


def _earlier_attempt_landed(engine: Engine, row: Mapping[str, Any], connector: Sender) -> str | None:
    """For a retry of an attempt interrupted mid-send: what to do instead of sending. "sent" when the
    earlier post is on the platform (this row is settled with it), "queued"/"failed" when the platform
    could not be asked, None to go on and send."""
    claimed = reconcile.interrupted_claim(engine, row)
    if claimed is None:
        return None
    try:
        found = reconcile.find_sent(engine, row, connector, claimed)
    except (RateLimited, TransientError) as exc:
        name = _platform_name(engine, row["account_id"])
        _set(
            engine,
            row["id"],
            status="queued",
            error=f"checking {name} for the earlier attempt ({exc.detail}): will try again",
        )
        return "queued"
    except ConnectorError as exc:
        name = _platform_name(engine, row["account_id"])
        _set(
            engine,
            row["id"],
            status="failed",
            error=f"could not check {name} for the earlier attempt ({exc.detail}); check {name} before retrying",
        )
        return "failed"
    if found is None:
        return None
    log.info("outbox %s: the interrupted attempt landed as %s; not sent again", row["id"], found)
    mark_sent(engine, row, SendResult(external_id=found))
    return "sent"


def deliver(engine: Engine, row: Mapping[str, Any], connector: Sender) -> str:
    """Send one claimed row; returns its resulting status (sent|failed|queued|sending)."""
    settled = _earlier_attempt_landed(engine, row, connector)
    if settled is not None:
        return settled
    try:
        result = _dispatch(engine, row, connector)
    except InvalidInput as exc:
        _set(engine, row["id"], status="failed", error=str(exc))
        return "failed"
    except RateLimited:
        name = _platform_name(engine, row["account_id"])
        _set(engine, row["id"], status="queued", error=_rate_limited(name))
        raise
    except TransientError as exc:
        name = _platform_name(engine, row["account_id"])
        if not exc.maybe_applied:
            _set(
                engine, row["id"], status="queued", error=f"{name} unreachable ({exc.detail}): will try again"
            )
            return "queued"
        _set(engine, row["id"], error=f"no clear answer from {name} ({exc.detail}): waiting for its echo")
        return "sending"
    except MalformedResponse as exc:
        name = _platform_name(engine, row["account_id"])
        _set(engine, row["id"], error=f"{name} answered oddly ({exc.detail}): waiting for its echo")
        return "sending"
    except ConnectorError as exc:  # 4xx: the platform's problem+json reason
        _set(engine, row["id"], status="failed", error=exc.detail)
        return "failed"
    except Exception:
        log.exception("outbox %s: unexpected error while sending", row["id"])
        _set(engine, row["id"], status="failed", error=interrupted(_platform_name(engine, row["account_id"])))
        return "failed"
    mark_sent(engine, row, result)
    return "sent"


def _find_stale(
    row: Mapping[str, Any], engine: Engine, connector_for: Callable[[int], Sender] | None
) -> str | None:
    """The platform id of this stale row's post when the account's own posts show it, "" when its fate
    cannot be read now (keep it in doubt), None when it is not there (or cannot be read back at all)."""
    if connector_for is None:
        return None
    try:
        return reconcile.find_sent(
            engine, row, connector_for(row["account_id"]), row["claimed_at"] or row["created_at"]
        )
    except (RateLimited, TransientError) as exc:
        log.info("outbox %s: cannot check the platform now (%s); still in doubt", row["id"], exc.detail)
        return ""
    except Exception:
        log.warning("outbox %s: cannot check the platform for this send", row["id"], exc_info=True)
        return None


def settle_in_flight(
    engine: Engine,
    connector_for: Callable[[int], Sender] | None = None,
    *,
    grace_s: float = DEFAULT_GRACE_S,
    now: datetime | None = None,
) -> tuple[int, int]:
    """Settle the 'sending' rows whose echo has not come back within the grace period: sent when the
    account's own recent posts (or DMs) show them, else failed. Returns (failed, found sent)."""
    now = now or utcnow()
    cutoff = now - timedelta(seconds=grace_s)
    with engine.connect() as conn:
        rows = [
            dict(r) for r in conn.execute(sa.select(outbox).where(outbox.c.status == "sending")).mappings()
        ]
    stale = [r for r in rows if r["claimed_at"] is None or r["claimed_at"] <= cutoff]
    failed = found = 0
    for row in stale:
        external_id = _find_stale(row, engine, connector_for)
        if external_id:
            log.info(
                "outbox %s: found on the platform as %s after its answer was lost", row["id"], external_id
            )
            mark_sent(engine, row, SendResult(external_id=external_id))
            found += 1
            continue
        claimed = row["claimed_at"] or row["created_at"]
        if external_id == "" and claimed > now - MAX_DOUBT:
            continue
        error = interrupted(_platform_name(engine, row["account_id"]))
        with engine.begin() as conn:
            done = conn.execute(
                outbox.update()
                .where(outbox.c.id == row["id"], outbox.c.status == "sending")
                .values(status="failed", error=error)
            ).rowcount
        if done:
            log.warning("outbox %s: %s", row["id"], error)
            failed += 1
    return failed, found


def reconcile_interrupted(
    engine: Engine,
    *,
    grace_s: float = DEFAULT_GRACE_S,
    now: datetime | None = None,
    connector_for: Callable[[int], Sender] | None = None,
) -> int:
    """Settle the stale 'sending' rows (settle_in_flight); returns how many failed."""
    return settle_in_flight(engine, connector_for, grace_s=grace_s, now=now)[0]


def send_pending(
    engine: Engine,
    connector_for: Callable[[int], Sender],
    *,
    limit: int = 50,
    grace_s: float = DEFAULT_GRACE_S,
    should_stop: Callable[[], bool] = lambda: False,
    wait_s: Callable[[int, str], float] | None = None,
) -> SendReport:
    """Settle interrupted rows, then send up to `limit` queued rows. `wait_s(account_id, endpoint)`
    (the worker's pacer): seconds before `dm_create` may be called again; DMs of an account whose DM
    quota is spent stay queued while its posts go on."""
    interrupted, found = settle_in_flight(engine, connector_for, grace_s=grace_s)
    report = SendReport(interrupted=interrupted, found_sent=found)
    dms_wait: set[int] = set()
    for _ in range(limit):
        if should_stop():
            break
        row = claim_next(engine, exclude_accounts=set(report.blocked_accounts), exclude_dms_of=dms_wait)
        if row is None:
            break
        if row["kind"] == "dm" and wait_s is not None and wait_s(row["account_id"], "dm_create") > 0:
            _set(engine, row["id"], status="queued", attempts=row["attempts"])  # as before the claim
            dms_wait.add(row["account_id"])
            report.requeued += 1
            continue
        try:
            status = deliver(engine, row, connector_for(row["account_id"]))
        except RateLimited as exc:  # nothing was sent: back to the queue until the reset
            name = _platform_name(engine, row["account_id"])
            _set(engine, row["id"], status="queued", error=_rate_limited(name))
            report.requeued += 1
            report.blocked_accounts[row["account_id"]] = exc.reset_at
            continue
        except Exception:
            # no connector (e.g. credentials unreadable): the row was not sent; keep it queued
            log.exception("outbox %s: no connector for account %s", row["id"], row["account_id"])
            _set(engine, row["id"], status="queued", error="account unavailable: will try again")
            report.blocked_accounts[row["account_id"]] = None
            report.requeued += 1
            continue
        if status == "sent":
            report.sent += 1
        elif status == "failed":
            report.failed += 1
        elif status == "queued":
            report.requeued += 1
        else:
            report.in_doubt += 1
    return report


def retry(engine: Engine, outbox_id: int, *, created_by: int | None = None) -> int:
    """An explicit new attempt of a failed row: a new outbox row (new idempotency key).

    A message has at most one live attempt: retrying again while an attempt is queued, sending or
    sent is refused (a double click never sends twice)."""
    try:
        with engine.begin() as conn:
            new_id, created = retry_in(conn, outbox_id, created_by=created_by)
    except IntegrityError as exc:  # a concurrent retry made the same attempt first
        raise Conflict("this message is already being retried; reload to see the new attempt") from exc
    if not created:
        raise Conflict(f"this message is already being retried or was sent (outbox row {new_id})")
    return new_id


def retry_in(
    conn: Connection,
    outbox_id: int,
    *,
    created_by: int | None = None,
    check: Callable[[RowMapping], None] | None = None,
) -> tuple[int, bool]:
    """The guarded retry, inside the caller's transaction: (id of the new row, True), or
    (id of the live attempt, False) when one is already queued, sending or sent; nothing is
    created then. `check(failed_row)` may refuse (raise) before the new row is made."""
    # the failed row is locked (PostgreSQL) so that concurrent retries of it take turns
    row = conn.execute(sa.select(outbox).where(outbox.c.id == outbox_id).with_for_update()).mappings().first()
    if row is None:
        raise NotFound(f"outbox row {outbox_id} does not exist")
    if row["status"] != "failed":
        raise Conflict(f"only a failed message can be retried; outbox row {outbox_id} is {row['status']}")
    if row["kind"] == "native_reply":
        raise Conflict("a reply posted on the platform by a person is not retried here; draft a new one")
    base = row["idempotency_key"].split("#retry")[0]
    attempts = conn.execute(
        sa.select(outbox.c.id, outbox.c.status)
        .where(
            sa.or_(
                outbox.c.idempotency_key == base,
                outbox.c.idempotency_key.startswith(f"{base}#retry", autoescape=True),
            )
        )
        .order_by(outbox.c.id)
    ).all()
    live = [a.id for a in attempts if a.status in LIVE_OUTBOX_STATUSES]
    if live:
        return int(live[0]), False
    if check is not None:
        check(row)
    values = {col: row[col] for col in RETRY_COPIES}
    values["idempotency_key"] = f"{base}#retry{len(attempts)}"
    values["created_by"] = created_by if created_by is not None else row["created_by"]
    return _insert_once(conn, values)
