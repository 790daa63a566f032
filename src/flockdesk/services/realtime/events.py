"""What happens to delivered real-time events, whichever way they came (stream or webhook).

- a post or DM: the same `Ingestor` path as polling, so a message that arrives both by event and by
  poll is stored once (messages are unique on platform + external id);
- a follow or unfollow: a row in `follow_events` (once per event id), for the followers feature;
- an access revocation: the account is marked as needing to be connected again;
- an encrypted chat event: handed to the platform's `ChatEventSink` (the X Chat connector registers
  one); without one it becomes a dead letter "X Chat not configured", never dropped;
- anything malformed or for an account that is not connected: a dead letter with the reason.

Delivered events that the platform bills are counted in the cost meter (`api_usage`).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import orjson
import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.connectors import registry
from flockdesk.connectors.base import ChatEventSink
from flockdesk.domain.realtime import ActivityEvent
from flockdesk.domain.types import DeadLetter, InboundItem
from flockdesk.domain.utc import as_utc, utcnow
from flockdesk.services.accounts import costs
from flockdesk.services.ingest import write as w
from flockdesk.services.ingest.ingestor import Ingestor
from flockdesk.services.realtime import state
from flockdesk.store.dialect import upsert
from flockdesk.store.schema import accounts, follow_events

log = logging.getLogger(__name__)

CHAT_NOT_CONFIGURED = "X Chat not configured: this encrypted DM event is kept here until it is"
_chat_sinks: dict[str, ChatEventSink] = {}


def register_chat_sink(platform: str, sink: ChatEventSink | None) -> None:
    """Route the platform's encrypted-chat events to `sink` (None: back to dead letters)."""
    if sink is None:
        _chat_sinks.pop(platform, None)
    else:
        _chat_sinks[platform] = sink


def chat_sink(platform: str) -> ChatEventSink | None:
    return _chat_sinks.get(platform)


@dataclass
class Applied:
    """What one batch of events did."""

    events: int = 0
    inserted: int = 0
    duplicates: int = 0
    follows: int = 0
    revoked: list[int] = field(default_factory=list)
    chats: int = 0
    dead_letters: int = 0
    ignored: int = 0
    accounts: set[int] = field(default_factory=set)  # accounts that got events


class EventRouter:
    """Applies batches of parsed events of one platform. `engine` and `ingestor` are the worker's (or,
    for webhooks drained by a job, the job's)."""

    def __init__(self, engine: Engine, ingestor: Ingestor, platform: str) -> None:
        self.engine = engine
        self.ingestor = ingestor
        self.platform = platform
        self._accounts: dict[str, int] = {}

    def _account_id(self, user_id: str | None) -> int | None:
        if user_id is None:
            return None
        if user_id not in self._accounts:
            with self.engine.connect() as conn:
                found = conn.execute(
                    sa.select(accounts.c.id).where(
                        accounts.c.platform == self.platform, accounts.c.external_user_id == user_id
                    )
                ).scalar()
            if found is None:
                return None
            self._accounts[user_id] = int(found)
        return self._accounts[user_id]

    def apply(self, batch: Sequence[tuple[ActivityEvent, datetime]]) -> Applied:
        """Apply events (each with its arrival time) in order of arrival."""
        out = Applied(events=len(batch))
        items: dict[int, list[InboundItem]] = defaultdict(list)
        dead: dict[int | None, list[DeadLetter]] = defaultdict(list)
        lags: dict[int, list[int]] = defaultdict(list)
        billed: dict[tuple[int, str], list[tuple[str, datetime]]] = defaultdict(list)
        rules = registry.realtime(self.platform)
        billed_events = rules.billed_events if rules is not None else {}
        for event, arrived in batch:
            account_id = self._account_id(event.user_id)
            if event.dead is not None and event.item is None:
                dead[account_id].append(event.dead)
                continue
            if account_id is None:
                dead[None].append(
                    DeadLetter(
                        f"{self.platform}:activity",
                        f"{event.event_type} event for user {event.user_id}, who is not a connected "
                        "account: connect it, or delete the subscription",
                        _dump(
                            {
                                "event_uuid": event.event_uuid,
                                "event_type": event.event_type,
                                "user_id": event.user_id,
                            }
                        ),
                    )
                )
                continue
            out.accounts.add(account_id)
            endpoint = billed_events.get(event.event_type)
            if endpoint is not None and rules is not None:
                resource = rules.billed_resource(event)
                if resource is not None:
                    billed[(account_id, endpoint)].append((resource, arrived))
            if event.created_at is not None:
                lags[account_id].append(
                    max(0, int((arrived - as_utc(event.created_at)).total_seconds() * 1000))
                )
            if event.item is not None:
                items[account_id].append(event.item)
                if event.dead is not None:  # e.g. text stored truncated
                    dead[account_id].append(event.dead)
            elif event.follow is not None:
                out.follows += self._follow(account_id, event, arrived)
            elif event.revoked is not None:
                state.mark_revoked(self.engine, account_id, now=arrived)
                out.revoked.append(account_id)
                log.warning("account %s: the owner revoked Flockdesk's access; connect it again", account_id)
            elif event.chat is not None:
                sink = chat_sink(self.platform)
                if sink is None:
                    dead[account_id].append(
                        DeadLetter(f"{self.platform}:chat", CHAT_NOT_CONFIGURED, _chat_payload(event))
                    )
                    continue
                try:
                    sink.handle_chat_event(account_id, event.chat)
                    out.chats += 1
                except Exception as exc:  # the sink's problem becomes the dead letter's reason
                    log.exception("chat event %s could not be handled", event.event_uuid)
                    dead[account_id].append(
                        DeadLetter(
                            f"{self.platform}:chat", f"{type(exc).__name__}: {exc}", _chat_payload(event)
                        )
                    )
            else:
                out.ignored += 1
        for account_id, account_items in items.items():
            res = self.ingestor.ingest_page(account_id, account_items, dead=dead.pop(account_id, []))
            out.inserted += res.inserted
            out.duplicates += res.duplicates
            out.dead_letters += res.dead_letters
        for account_id, letters in dead.items():
            if not letters:
                continue
            if account_id is not None:
                out.dead_letters += self.ingestor.ingest_page(account_id, [], dead=letters).dead_letters
            else:
                with self.engine.begin() as conn:
                    out.dead_letters += w.write_dead_letters(conn, letters, None, utcnow())
        if lags:
            state.record_events(self.engine, lags, now=max(arrived for _, arrived in batch))
        for (account_id, endpoint), delivered in billed.items():
            try:
                # billed as delivered, once per resource and UTC day (a redelivery is not billed again)
                costs.record_call(
                    self.engine,
                    account_id,
                    endpoint,
                    len(delivered),
                    resources=[r for r, _ in delivered],
                    served_at=[t for _, t in delivered],
                    at=max(t for _, t in delivered),
                )
            except Exception:  # accounting must never stop ingest
                log.exception("could not record delivered events for account %s", account_id)
        return out

    def _follow(self, account_id: int, event: ActivityEvent, arrived: datetime) -> int:
        assert event.follow is not None
        follower = event.follow.follower
        row = {
            "account_id": account_id,
            "event_uuid": event.event_uuid,
            "follower_external_id": follower.external_id,
            "follower_username": follower.username,
            "follows": event.follow.follows,
            "occurred_at": event.created_at,
            "received_at": arrived,
        }
        with self.engine.begin() as conn:
            stmt = (
                upsert(conn, follow_events)
                .values(row)
                .on_conflict_do_nothing(index_elements=["account_id", "event_uuid"])
                .returning(follow_events.c.id)
            )
            return 1 if conn.execute(stmt).first() is not None else 0


def _chat_payload(event: ActivityEvent) -> str:
    assert event.chat is not None
    chat = event.chat
    body = {
        "event_uuid": chat.event_uuid,
        "event_type": chat.event_type,
        "user_id": chat.user_id,
        "payload": chat.payload,
    }
    return _dump(body)


def _dump(obj: object) -> str:
    """JSON for a dead letter's payload (bounded like the parser's)."""
    return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS).decode()[:100_000]
