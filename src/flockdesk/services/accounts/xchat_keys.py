"""The brand's X Chat identity: its private keys (chatxdk's `export_keys` blob) generated or imported,
stored encrypted at rest like the credentials (Fernet, services/accounts/credentials.py), and loaded
only by the connector that decrypts and signs.

The blob never reaches a log line, an audit entry or a page: audit records the key version only, and
`ChatKeys` prints as stars. Three states an admin sees:

* `none`: X Chat is not set up (legacy DMs only);
* `ready`: keys stored, registered under `version`;
* `missing`: a version was registered but the blob is gone or cannot be decrypted (a restored
  database, a changed secret key). Polling of the other sources and legacy DMs go on; the X Chat
  source reports MISSING until an admin generates new keys or imports a backup.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from flockdesk.connectors.base import ChatKeyManager, ChatKeys, ConnectorError
from flockdesk.domain.utc import utcnow
from flockdesk.services.accounts.connected import (
    AccountError,
    connector_for_account,
    get_account,
    load_chat_keys,
)
from flockdesk.services.accounts.credentials import fernet_for
from flockdesk.services.team import audit
from flockdesk.settings import Settings
from flockdesk.store.schema import accounts, sources

log = logging.getLogger(__name__)

SOURCE_KIND = "xchat"
BLOB_SIZES = (32, 64)  # chatxdk: identity key only, or identity + signing key
MISSING = "X Chat keys missing: generate new keys (customers' older chats can't be read) or import a backup"


@dataclass(frozen=True)
class ChatKeyStatus:
    state: str  # none | ready | missing
    version: str | None
    message: str


def _encrypt(settings: Settings, blob: bytes) -> bytes:
    return fernet_for(settings.resolved_secret_key()).encrypt(bytes(blob))


def load(engine: Engine, settings: Settings, account_id: int) -> ChatKeys | None:
    """The account's keys, or None when it has none or they cannot be decrypted (the missing state)."""
    return load_chat_keys(engine, settings, account_id)


def status(engine: Engine, settings: Settings, account_id: int) -> ChatKeyStatus:
    get_account(engine, account_id)
    with engine.connect() as conn:
        version = conn.execute(
            sa.select(accounts.c.xchat_key_version).where(accounts.c.id == account_id)
        ).scalar()
    if not version:
        return ChatKeyStatus("none", None, "X Chat is not set up: generate keys to read encrypted DMs")
    if load(engine, settings, account_id) is None:
        return ChatKeyStatus("missing", str(version), MISSING)
    return ChatKeyStatus("ready", str(version), f"X Chat keys ready (public key version {version})")


def _manager(engine: Engine, settings: Settings, account_id: int) -> ChatKeyManager:
    connector = connector_for_account(engine, settings, account_id, read_retries=0)
    if not isinstance(connector, ChatKeyManager):
        connector.close()
        info = get_account(engine, account_id)
        raise AccountError(f"{info.platform} accounts have no encrypted chat to set up")
    return connector


def _store(
    engine: Engine, settings: Settings, account_id: int, keys: ChatKeys, action: str, actor_id: int | None
) -> None:
    now = utcnow()
    with engine.begin() as conn:
        actor = audit.admin_actor(conn, actor_id)
        conn.execute(
            accounts.update()
            .where(accounts.c.id == account_id)
            .values(xchat_keys_encrypted=_encrypt(settings, keys.reveal()), xchat_key_version=keys.version)
        )
        _ensure_source(conn, account_id, settings, now)
        audit.record(conn, actor_id, actor, action, "account", account_id, {"key_version": keys.version})


def _ensure_source(conn: Connection, account_id: int, settings: Settings, now: datetime) -> None:
    found = conn.execute(
        sa.select(sources.c.id).where(sources.c.account_id == account_id, sources.c.kind == SOURCE_KIND)
    ).scalar()
    if found is not None:
        conn.execute(sources.update().where(sources.c.id == found).values(enabled=True, next_poll_at=now))
        return
    conn.execute(
        sources.insert().values(
            account_id=account_id,
            kind=SOURCE_KIND,
            query=None,
            enabled=True,
            poll_interval_s=settings.poll_dms_s,
            next_poll_at=now,
            created_at=now,
        )
    )


def generate(
    engine: Engine, settings: Settings, account_id: int, *, actor_id: int | None = None
) -> ChatKeyStatus:
    """New keypairs registered on the platform, the private blob stored encrypted, the X Chat source
    enabled. Customers' conversations keyed to older keys cannot be read with the new ones."""
    manager = _manager(engine, settings, account_id)
    try:
        keys = manager.create_chat_keys()
    except ConnectorError as exc:
        raise AccountError(f"X refused the new X Chat keys ({exc.detail}); try again later") from exc
    finally:
        close = getattr(manager, "close", None)
        if callable(close):
            close()
    _store(engine, settings, account_id, keys, "account.xchat_keys.generate", actor_id)
    log.info("account %s: X Chat keys generated (version %s)", account_id, keys.version)
    return status(engine, settings, account_id)


def import_backup(
    engine: Engine, settings: Settings, account_id: int, blob: bytes, *, actor_id: int | None = None
) -> ChatKeyStatus:
    """Restore keys exported earlier (`export_backup`): they must be registered for this account."""
    if len(blob) not in BLOB_SIZES:
        raise AccountError(
            f"that file is not an X Chat key backup ({len(blob)} bytes; a backup has 32 or 64): "
            "use the file `flockdesk accounts xchat-keys ID --export FILE` wrote"
        )
    manager = _manager(engine, settings, account_id)
    try:
        version = manager.registered_chat_key_version(blob)
    except ConnectorError as exc:
        raise AccountError(f"could not read the account's registered keys from X ({exc.detail})") from exc
    finally:
        close = getattr(manager, "close", None)
        if callable(close):
            close()
    if version is None:
        raise AccountError(
            "these keys are not registered for this account on X (a backup of another account, or of "
            "keys replaced since): import the right backup, or generate new keys"
        )
    _store(engine, settings, account_id, ChatKeys(blob, version), "account.xchat_keys.import", actor_id)
    log.info("account %s: X Chat keys imported (version %s)", account_id, version)
    return status(engine, settings, account_id)


def export_backup(
    engine: Engine, settings: Settings, account_id: int, *, actor_id: int | None = None
) -> bytes:
    """The raw key blob, for a backup the admin keeps somewhere safe; the export is audited."""
    keys = load(engine, settings, account_id)
    if keys is None:
        raise AccountError(status(engine, settings, account_id).message)
    with engine.begin() as conn:
        actor = audit.admin_actor(conn, actor_id)
        audit.record(
            conn,
            actor_id,
            actor,
            "account.xchat_keys.export",
            "account",
            account_id,
            {"key_version": keys.version},
        )
    return keys.reveal()
