"""Migration 0020 (messages.lang, accounts.org_contacts) goes down and up again without losing rows,
on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from flockdesk.settings import Settings
from flockdesk.store.db import alembic_config, make_engine, upgrade
from tests.seed_data import account, contact, conversation, message


def _columns(engine: sa.Engine, table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(engine).get_columns(table)}


def test_0020_down_and_up_keeps_rows(settings: Settings) -> None:
    engine = make_engine(settings)
    try:
        upgrade(engine)
        acct = account(engine)
        conv = conversation(engine, acct, contact(engine))
        message(engine, conv, "@acmecare bonjour", lang="fr")
        with engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE accounts SET org_contacts = :c"), {"c": '{"emails": ["help@acme.com"]}'}
            )
        command.downgrade(alembic_config(engine), "0018")
        assert "lang" not in _columns(engine, "messages")
        assert "org_contacts" not in _columns(engine, "accounts")
        upgrade(engine)
        assert "lang" in _columns(engine, "messages") and "org_contacts" in _columns(engine, "accounts")
        with engine.connect() as conn:
            counts = [
                conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in ("accounts", "conversations", "messages")
            ]
            lang = conn.execute(sa.text("SELECT lang FROM messages")).scalar_one()
        assert (counts, lang) == ([1, 1, 1], None)
    finally:
        engine.dispose()
