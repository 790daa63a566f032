"""Small store builders for the inbox service tests (tests/seed_data.py, at the fixed time T0)."""

from __future__ import annotations

from sqlalchemy import Engine

from tests.seed_data import BRAND_ID, T0, account, contact, conversation, message, user

__all__ = ["BRAND_ID", "T0", "account", "contact", "conversation", "message", "user", "world"]


def world(engine: Engine) -> dict[str, int]:
    """An agent, a manager, a brand account, a contact with one public and one DM conversation."""
    ids = {
        "agent": user(engine, "alice", "agent", "Alice Smith"),
        "bob": user(engine, "bob", "agent"),
        "manager": user(engine, "mia", "manager"),
        "account": account(engine),
    }
    ids["contact"] = contact(
        engine,
        external_id="123",
        username="jane",
        name="Jane Doe",
        bio="Coffee fan",
        followers_count=5000,
        verified=True,
    )
    ids["public"] = conversation(engine, ids["account"], ids["contact"], kind="public", channel="mention")
    ids["public_msg"] = message(
        engine, ids["public"], "@acmecare my order never arrived", contact_id=ids["contact"]
    )
    ids["dm"] = conversation(engine, ids["account"], ids["contact"], kind="dm", external_thread_id="123-900")
    ids["dm_msg"] = message(
        engine,
        ids["dm"],
        "my address is 12 Elm Street Springfield please fix",
        kind="dm",
        contact_id=ids["contact"],
    )
    return ids
