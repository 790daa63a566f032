"""Builders for ingest tests: an org account and X payloads parsed through the real parser."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from flockdesk.connectors.x.parse import parse_dm_page, parse_tweet_page
from flockdesk.domain.types import InboundItem
from flockdesk.services.accounts.credentials import Credentials, Secret, encrypt_credentials
from flockdesk.store.schema import accounts

ORG = "100"
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def make_account(engine: Engine, external_user_id: str = ORG) -> int:
    with engine.begin() as conn:
        row = conn.execute(
            accounts.insert().returning(accounts.c.id),
            {
                "platform": "x",
                "external_user_id": external_user_id,
                "username": "acme",
                "display_name": "Acme",
                "purpose": "care",
                "base_url": "http://127.0.0.1:1",
                "credentials_encrypted": encrypt_credentials("k", Credentials(access_token=Secret(""))),
                "active": True,
                "created_at": T0,
            },
        ).one()
    return int(row.id)


def user(uid: str, name: str | None = None, followers: int = 10) -> dict[str, Any]:
    return {
        "id": uid,
        "username": f"u{uid}",
        "name": name or f"User {uid}",
        "description": f"bio of {uid}",
        "public_metrics": {"followers_count": followers},
        "verified": False,
    }


def tweet(
    tid: str,
    author: str,
    text: str = "hello @acme",
    *,
    conv: str | None = None,
    reply_to: str | None = None,
    minutes: int = 0,
) -> dict[str, Any]:
    t: dict[str, Any] = {
        "id": tid,
        "text": text,
        "author_id": author,
        "conversation_id": conv or tid,
        "created_at": (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z"),
    }
    if reply_to:
        t["referenced_tweets"] = [{"type": "replied_to", "id": reply_to}]
    return t


def page(*tweets: dict[str, Any]) -> dict[str, Any]:
    authors = sorted({t["author_id"] for t in tweets})
    return {
        "data": list(tweets),
        "includes": {"users": [user(a) for a in authors]},
        "meta": {"result_count": len(tweets)},
    }


def mentions(*tweets: dict[str, Any]) -> list[InboundItem]:
    return parse_tweet_page(page(*tweets), channel="mention", org_user_id=ORG).items


def dm(eid: str, sender: str, other: str, text: str = "hi", minutes: int = 0) -> dict[str, Any]:
    a, b = sorted([sender, other], key=int)
    return {
        "id": eid,
        "event_type": "MessageCreate",
        "text": text,
        "sender_id": sender,
        "dm_conversation_id": f"{a}-{b}",
        "created_at": (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z"),
    }


def dms(*events: dict[str, Any]) -> list[InboundItem]:
    senders = sorted({e["sender_id"] for e in events})
    return parse_dm_page(
        {"data": list(events), "includes": {"users": [user(s) for s in senders]}}, org_user_id=ORG
    ).items


Builder = Callable[..., list[InboundItem]]
