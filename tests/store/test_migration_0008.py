"""Migration 0008 widens the id columns in place on PostgreSQL (SQLite, which does not enforce VARCHAR
lengths, keeps its tables: no row lost, no foreign-key cascade, sqlite_master untouched), adds
contacts.host, and fills the parsed fields of stored X messages from their raw JSON."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command

from flockdesk.settings import Settings
from flockdesk.store.db import alembic_config, make_engine, upgrade

T = datetime(2026, 11, 1, tzinfo=UTC)
RAW = {
    "id": "11",
    "text": "@acme cracked https://t.co/p",
    "in_reply_to_user_id": "900",
    "public_metrics": {"retweet_count": 5, "reply_count": 2, "like_count": 9, "quote_count": 1},
    "attachments": {
        "media_keys": ["3_1"],
        "media": [{"media_key": "3_1", "type": "photo", "url": "https://pbs.twimg.com/p.jpg", "width": 10}],
    },
}
ENTITIES = {
    "urls": [
        {"url": "https://t.co/p", "expanded_url": "https://x.com/u/status/11/photo/1", "media_key": "3_1"},
        {
            "url": "https://t.co/a",
            "expanded_url": "https://acme.example/help",
            "display_url": "acme.example/help",
        },
    ]
}


def _seed(conn: sa.Connection) -> None:
    """Rows as a 0007 store holds them (plain SQL: the current tables have more columns)."""
    conn.execute(
        sa.text(
            "INSERT INTO accounts (id, platform, external_user_id, username, display_name, purpose, base_url, "
            "credentials_encrypted, active, created_at) VALUES (1, 'x', '900', 'acme', 'Acme', 'care', "
            "'http://x.invalid', :blob, true, :t)"
        ),
        {"blob": b"x", "t": T},
    )
    conn.execute(
        sa.text(
            "INSERT INTO contacts (id, platform, external_id, username, name, bio, followers_count, verified, "
            "first_seen_at, updated_at) VALUES (1, 'x', '7', 'jane', 'Jane', '', 3, false, :t, :t)"
        ),
        {"t": T},
    )
    conn.execute(
        sa.text(
            "INSERT INTO conversations (id, account_id, platform, kind, channel, external_thread_id, "
            "contact_id, status, priority, created_at, last_message_at) "
            "VALUES (1, 1, 'x', 'public', 'mention', '10', 1, 'open', 0.5, :t, :t)"
        ),
        {"t": T},
    )
    for mid, raw, entities in ((1, RAW, ENTITIES), (2, None, None)):
        conn.execute(
            sa.text(
                "INSERT INTO messages (id, conversation_id, platform, external_id, kind, direction, "
                "author_contact_id, text, entities, in_reply_to_external_id, created_at, ingested_at, raw) "
                "VALUES (:id, 1, 'x', :ext, 'reply', 'in', 1, 'cracked lid', :entities, '10', :t, :t, :raw)"
            ).bindparams(sa.bindparam("entities", type_=sa.JSON), sa.bindparam("raw", type_=sa.JSON)),
            {"id": mid, "ext": str(10 + mid), "entities": entities, "raw": raw, "t": T},
        )


def _table_definitions(engine: sa.Engine) -> dict[str, str]:
    if engine.dialect.name != "sqlite":
        return {}
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'table'")).all()
    return {name: sql for name, sql in rows}


def test_0008_keeps_every_row_and_fills_the_parsed_fields(settings: Settings) -> None:
    engine = make_engine(settings)
    try:
        upgrade(engine, "0007")
        with engine.begin() as conn:
            _seed(conn)
        before = _table_definitions(engine)
        upgrade(engine, "0008")
        if engine.dialect.name == "sqlite":  # only the two added columns changed the definitions
            after = _table_definitions(engine)
            changed = {t for t in after if after[t] != before.get(t)}
            assert changed == {"contacts", "messages"}
            assert "external_id VARCHAR(64)" in after["messages"]
        else:
            lengths = {
                c["name"]: getattr(c["type"], "length", None)
                for c in sa.inspect(engine).get_columns("messages")
            }
            assert lengths["external_id"] == 512
        upgrade(engine)

        meta = sa.MetaData()
        messages = sa.Table("messages", meta, autoload_with=engine)
        contacts = sa.Table("contacts", meta, autoload_with=engine)
        with engine.connect() as conn:
            rows = {r.id: r for r in conn.execute(sa.select(messages).order_by(messages.c.id))}
            counts = [
                conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in ("accounts", "contacts", "conversations", "messages")
            ]
        assert counts == [1, 1, 1, 2]  # nothing cascaded away
        first = rows[1]
        assert first.in_reply_to_user_id == "900"
        assert first.engagement == {"likes": 9, "reposts": 5, "replies": 2, "quotes": 1}
        assert first.media == [
            {
                "kind": "photo",
                "url": "https://pbs.twimg.com/p.jpg",
                "preview_url": None,
                "alt_text": None,
                "width": 10,
                "height": None,
            }
        ]
        assert first.links == [{"url": "https://acme.example/help", "display": "acme.example/help"}]
        assert (rows[2].engagement, rows[2].media, rows[2].links) == (None, None, None)

        uri = "at://did:plc:" + "a" * 24 + "/app.bsky.feed.post/" + "3k" * 150  # 345 characters
        with engine.begin() as conn:
            conn.execute(contacts.update().values(host="mastodon.example", external_id=uri))
            conn.execute(messages.update().where(messages.c.id == 2).values(external_id=uri))
            conn.execute(messages.update().where(messages.c.id == 1).values(text="a zebra lid"))
        with engine.connect() as conn:
            assert conn.execute(sa.select(messages.c.external_id).where(messages.c.id == 2)).scalar() == uri
            if engine.dialect.name == "sqlite":  # the full-text index still follows messages (triggers kept)
                found = conn.execute(
                    sa.text("SELECT rowid FROM messages_fts WHERE messages_fts MATCH 'zebra'")
                ).scalars()
                assert list(found) == [1]

        with engine.begin() as conn:  # ids short enough to narrow back
            conn.execute(contacts.update().values(external_id="7"))
            conn.execute(messages.update().where(messages.c.id == 2).values(external_id="12"))
        command.downgrade(alembic_config(engine), "0007")
        names = {c["name"] for c in sa.inspect(engine).get_columns("messages")}
        assert "media" not in names and "in_reply_to_user_id" not in names
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM messages")).scalar_one() == 2
        upgrade(engine)
    finally:
        engine.dispose()
