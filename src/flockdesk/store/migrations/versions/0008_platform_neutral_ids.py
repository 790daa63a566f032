"""connectors: id columns wide enough for every network; contacts carry a host

Platform ids, thread ids and cursors grow to 512 characters (Bluesky `at://did:plc:.../app.bsky.feed.post/...`
URIs, Mastodon ids), handles to 320 (a Bluesky domain handle, a Mastodon user@instance), pagination
tokens to 1024. Contacts get `host` (a federated network's instance). Messages get the fields the
connector parses besides the text (whom a reply answered, engagement counts, media, links), filled
here for stored X messages from their `raw` payload, so nothing reads `raw` after this.

PostgreSQL widens the columns in place (no table rewrite). SQLite stores text of any length in a
VARCHAR column and never checks the declared length, so its tables are left as they are: no batch
copy (with foreign keys on, dropping the old `accounts` or `conversations` would cascade and delete
their messages) and no edit of sqlite_master (writable_schema, refused by SQLite builds in defensive
mode). Alembic's schema comparison ignores VARCHAR lengths on SQLite (store/dialect.py).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

ID, HANDLE, TOKEN = 512, 320, 1024
# table -> column -> (old length, new length)
WIDEN: dict[str, dict[str, tuple[int, int]]] = {
    "accounts": {"external_user_id": (64, ID), "username": (64, HANDLE)},
    "sync_cursors": {"since_id": (32, ID), "pending_newest_id": (32, ID), "next_token": (200, TOKEN)},
    "contacts": {"external_id": (64, ID), "username": (64, HANDLE)},
    "conversations": {"external_thread_id": (64, ID)},
    "outbox": {
        "in_reply_to_external_id": (32, ID),
        "recipient_external_id": (64, ID),
        "external_id": (64, ID),
    },
    "messages": {"external_id": (64, ID), "in_reply_to_external_id": (64, ID)},
}
NOT_NULL = {
    ("accounts", "external_user_id"),
    ("accounts", "username"),
    ("contacts", "external_id"),
    ("contacts", "username"),
    ("conversations", "external_thread_id"),
    ("messages", "external_id"),
}
BATCH = 1000


def _set_lengths(new: bool) -> None:
    if op.get_bind().dialect.name == "sqlite":
        return  # SQLite does not enforce VARCHAR lengths (see above)
    for table, columns in WIDEN.items():
        lengths = {c: (n if new else o) for c, (o, n) in columns.items()}
        for column, length in lengths.items():
            old = columns[column][0] if new else columns[column][1]
            op.alter_column(
                table,
                column,
                type_=sa.String(length),
                existing_type=sa.String(old),
                existing_nullable=(table, column) not in NOT_NULL,
            )


# ---- the X rules of the time, frozen here for the backfill (connectors/x/parse.py) ---------------

_MEDIA_KINDS = {"photo": "photo", "video": "video", "animated_gif": "gif"}


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _size(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _engagement(raw: Mapping[str, Any]) -> dict[str, Any] | None:
    metrics = raw.get("public_metrics")
    if not isinstance(metrics, dict):
        return None
    counts = {
        "likes": _count(metrics.get("like_count")),
        "reposts": _count(metrics.get("retweet_count", metrics.get("repost_count"))),
        "replies": _count(metrics.get("reply_count")),
        "quotes": _count(metrics.get("quote_count")),
        "impressions": _count(metrics.get("impression_count")),
    }
    return {k: v for k, v in counts.items() if v}  # as Engagement.to_json stores it


def _media_and_links(entities: Any, raw: Mapping[str, Any]) -> tuple[list[Any] | None, list[Any] | None]:
    ents: Mapping[str, Any] = entities if isinstance(entities, dict) else {}
    given_urls = ents.get("urls")
    urls = [u for u in given_urls if isinstance(u, dict)] if isinstance(given_urls, list) else []
    given_att = raw.get("attachments")
    att: Mapping[str, Any] = given_att if isinstance(given_att, dict) else {}
    given_media = att.get("media")
    inline = given_media if isinstance(given_media, list) else []
    by_key = {
        m["media_key"]: m for m in inline if isinstance(m, dict) and isinstance(m.get("media_key"), str)
    }
    pages = {u["media_key"]: u for u in urls if isinstance(u.get("media_key"), str)}
    keys = att.get("media_keys")
    ordered = [k for k in keys if isinstance(k, str)] if isinstance(keys, list) else []
    media: list[dict[str, Any]] = []
    for key in dict.fromkeys(ordered or list(by_key) or list(pages)):
        item, page = by_key.get(key, {}), pages.get(key, {})
        url = _text(item.get("url")) or _text(page.get("expanded_url"))
        preview = _text(item.get("preview_image_url"))
        if (url or preview) and len(media) < 10:
            media.append(
                {
                    "kind": _MEDIA_KINDS.get(str(item.get("type", "")), "other"),
                    "url": url,
                    "preview_url": preview,
                    "alt_text": _text(item.get("alt_text")),
                    "width": _size(item.get("width")),
                    "height": _size(item.get("height")),
                }
            )
    links: list[dict[str, str]] = []
    for u in urls:
        url = _text(u.get("expanded_url")) or _text(u.get("url"))
        if isinstance(u.get("media_key"), str) or url is None or any(x["url"] == url for x in links):
            continue
        if len(links) < 20:
            links.append({"url": url, "display": _text(u.get("display_url")) or ""})
    return media or None, links or None


def _backfill_messages(conn: sa.Connection) -> None:
    messages = sa.table(
        "messages",
        sa.column("id", sa.BigInteger),
        sa.column("platform", sa.String),
        sa.column("entities", sa.JSON),
        sa.column("raw", sa.JSON),
        sa.column("in_reply_to_user_id", sa.String),
        sa.column("engagement", sa.JSON),
        sa.column("media", sa.JSON),
        sa.column("links", sa.JSON),
    )
    after = 0
    while True:
        rows = conn.execute(
            sa.select(messages.c.id, messages.c.entities, messages.c.raw)
            .where(messages.c.id > after, messages.c.platform == "x", messages.c.raw.is_not(None))
            .order_by(messages.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        after = int(rows[-1].id)
        updates = []
        for row in rows:
            raw = row.raw if isinstance(row.raw, dict) else {}
            answered = raw.get("in_reply_to_user_id")
            media, links = _media_and_links(row.entities, raw)
            values = {
                "in_reply_to_user_id": str(answered)
                if isinstance(answered, str | int) and answered
                else None,
                "engagement": _engagement(raw),
                "media": media,
                "links": links,
            }
            if any(v is not None for v in values.values()):
                updates.append({"row_id": row.id, **{f"v_{k}": v for k, v in values.items()}})
        if updates:
            conn.execute(
                messages.update()
                .where(messages.c.id == sa.bindparam("row_id"))
                .values(
                    in_reply_to_user_id=sa.bindparam("v_in_reply_to_user_id"),
                    engagement=sa.bindparam("v_engagement", type_=sa.JSON),
                    media=sa.bindparam("v_media", type_=sa.JSON),
                    links=sa.bindparam("v_links", type_=sa.JSON),
                ),
                updates,
            )


def upgrade() -> None:
    _set_lengths(new=True)
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("host", sa.String(255), nullable=True))
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("in_reply_to_user_id", sa.String(ID), nullable=True))
        batch.add_column(sa.Column("engagement", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("media", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("links", sa.JSON(), nullable=True))
    _backfill_messages(op.get_bind())


def downgrade() -> None:
    added = {"messages": ("links", "media", "engagement", "in_reply_to_user_id"), "contacts": ("host",)}
    conn = op.get_bind()
    for table, columns in added.items():
        for column in columns:
            if conn.dialect.name == "sqlite":
                # in place (SQLite 3.35+): a batch copy of `contacts` would trip its foreign keys
                conn.exec_driver_sql(f"ALTER TABLE {table} DROP COLUMN {column}")
            else:
                op.drop_column(table, column)
    # PostgreSQL refuses (value too long) when a longer id is stored: nothing is cut off silently.
    _set_lengths(new=False)
