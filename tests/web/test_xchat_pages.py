"""X Chat on the pages: the account's key state and actions for admins, the transport on DM bubbles."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import unquote_plus

import sqlalchemy as sa
from sqlalchemy import Engine

from flockdesk.store.schema import accounts, contacts, messages
from tests.rows import add_account_row, add_conversation_row

from .conftest import Browser

MISSING = "X Chat keys missing: generate new keys (customers&#39;"


def test_accounts_page_shows_missing_keys_and_refuses_a_bad_backup(admin: Browser, engine: Engine) -> None:
    account = add_account_row(engine)
    page = admin.client.get("/settings/accounts").text
    assert "Set up X Chat" in page and "X Chat is not set up" in page
    with engine.begin() as conn:  # keys were registered once, the blob is gone
        conn.execute(accounts.update().values(xchat_key_version="7"))
    page = admin.client.get("/settings/accounts").text
    assert MISSING in page and "Import a backup" in page and "Generate new keys" in page
    resp = admin.client.post(
        f"/settings/accounts/{account}/xchat-keys/import",
        data={"csrf_token": admin.csrf},
        files={"backup": ("keys.bin", b"not a key", "application/octet-stream")},
        follow_redirects=False,
    )
    assert resp.status_code == 303
    assert "not an X Chat key backup" in unquote_plus(resp.headers["location"])


def test_a_dm_bubble_says_which_transport_it_came_by(admin: Browser, engine: Engine) -> None:
    account = add_account_row(engine)
    conv = add_conversation_row(engine, account, "dm", "1000-2000")
    now = datetime.now(UTC)
    with engine.begin() as conn:
        contact = conn.execute(
            contacts.insert()
            .values(
                platform="x",
                external_id="2000",
                username="ana",
                name="Ana",
                first_seen_at=now,
                updated_at=now,
            )
            .returning(contacts.c.id)
        ).scalar_one()
        for ext, transport, text in (("1", "legacy", "old style"), ("xchat:2", "xchat", "encrypted hello")):
            conn.execute(
                messages.insert().values(
                    conversation_id=conv,
                    platform="x",
                    external_id=ext,
                    kind="dm",
                    direction="in",
                    author_contact_id=contact,
                    text=text,
                    created_at=now,
                    ingested_at=now,
                    transport=transport,
                )
            )
    page = admin.client.get(f"/c/{conv}").text
    assert page.count("X Chat (encrypted)") == 1
    assert "encrypted hello" in page and "old style" in page
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(messages)).scalar_one() == 2
