"""Connected platform accounts: verify a token, store it encrypted, create the default sources, and
hand out a connector with fresh credentials.

Credentials are encrypted with services/accounts/credentials.py before they touch the store, and `AccountInfo`
carries none, so listing accounts can never show a token. Connecting, updating and disconnecting an
account is audited; `actor_id` is the admin, None for the command line (recorded as "cli").
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import InvalidToken
from sqlalchemy import Connection, Engine

from flockdesk.connectors import registry
from flockdesk.connectors.base import (
    AuthError,
    CallObserver,
    CallRecord,
    ChatKeys,
    Connector,
    ConnectorError,
    PlatformRejected,
    TransientError,
)
from flockdesk.domain.errors import InvalidInput
from flockdesk.domain.utc import utcnow
from flockdesk.services.accounts.api_hosts import ApiUrlRefused, check_api_url
from flockdesk.services.accounts.costs import record_call
from flockdesk.services.accounts.credentials import (
    Credentials,
    Secret,
    decrypt_credentials,
    encrypt_credentials,
    fernet_for,
)
from flockdesk.services.team import audit
from flockdesk.settings import Settings
from flockdesk.store.schema import accounts, sources

log = logging.getLogger(__name__)

PURPOSES = ("care", "corporate", "personal")
DEFAULT_SOURCES = ("mentions", "dms")
REFRESH_MARGIN_S = 60.0


class AccountError(InvalidInput):
    """An account cannot be added or used; the message says what to do."""


@dataclass(frozen=True)
class AccountInfo:
    id: int
    platform: str
    external_user_id: str
    username: str
    display_name: str
    purpose: str
    base_url: str
    active: bool
    created_at: datetime
    api_version: str | None = None  # the OpenAPI spec the API host speaks; None: the connector's default


def _info(row: Any) -> AccountInfo:
    return AccountInfo(
        row.id,
        row.platform,
        row.external_user_id,
        row.username,
        row.display_name,
        row.purpose,
        row.base_url,
        bool(row.active),
        row.created_at,
        getattr(row, "api_version", None),
    )


def default_interval(settings: Settings, kind: str) -> float:
    return {"mentions": settings.poll_mentions_s, "dms": settings.poll_dms_s}.get(
        kind, settings.poll_search_s
    )


def _ensure_default_sources(conn: Connection, account_id: int, settings: Settings) -> None:
    have = set(conn.execute(sa.select(sources.c.kind).where(sources.c.account_id == account_id)).scalars())
    now = utcnow()
    for kind in DEFAULT_SOURCES:
        if kind not in have:
            conn.execute(
                sources.insert().values(
                    account_id=account_id,
                    kind=kind,
                    query=None,
                    enabled=True,
                    poll_interval_s=default_interval(settings, kind),
                    next_poll_at=now,
                    created_at=now,
                )
            )


def _safe_url(base_url: str, settings: Settings) -> str:
    try:
        return check_api_url(base_url, settings.allowed_api_hosts)
    except ApiUrlRefused as exc:
        raise AccountError(f"--base-url refused: {exc}") from exc


def _validate(platform: str, base_url: str, token: str, purpose: str, settings: Settings) -> str:
    if platform not in registry.platforms():
        raise AccountError(f"unknown platform {platform!r}: use one of {', '.join(registry.platforms())}")
    if purpose not in PURPOSES:
        raise AccountError(f"--purpose must be one of {', '.join(PURPOSES)}")
    base_url = _safe_url(base_url, settings)
    if not token.strip():
        raise AccountError("--token is empty: pass the account's OAuth 2.0 user access token")
    return base_url


def add_account(
    engine: Engine,
    settings: Settings,
    *,
    base_url: str,
    token: str,
    platform: str = "x",
    purpose: str = "care",
    refresh_token: str | None = None,
    expires_at: float | None = None,
    client_id: str | None = None,
    actor_id: int | None = None,
) -> AccountInfo:
    """Verify `token` with GET /2/users/me, store the account (encrypted credentials) and its default
    sources. Re-adding the same platform user updates its credentials (and reconnects it). Nothing
    is stored on error. Errors name the HTTP status, never the remote body: the URL is an admin's
    input, and its answer is not shown back (api_hosts.py says which URLs may be called at all)."""
    base_url = _validate(platform, base_url, token, purpose, settings)
    calls: list[CallRecord] = []
    connector = registry.connector_for(
        platform,
        base_url,
        token.strip(),
        timeout_s=settings.http_timeout_s,
        read_retries=0,
        on_call=calls.append,
    )
    try:
        me = connector.get_me()
    except AuthError as exc:
        raise AccountError("the platform refused the token (HTTP 401/403): check it and try again") from exc
    except TransientError as exc:
        raise AccountError(
            f"cannot reach {base_url} (no answer, or a server error): check the URL and that the API is up"
        ) from exc
    except PlatformRejected as exc:
        raise AccountError(
            f"{base_url} refused GET /2/users/me (HTTP {exc.status}): check --base-url"
        ) from exc
    except ConnectorError as exc:
        name = registry.profile(platform).display_name
        raise AccountError(f"{base_url} did not answer like the {name} API: check --base-url") from exc
    finally:
        connector.close()
    creds = Credentials(
        Secret(token.strip()), Secret(refresh_token) if refresh_token else None, expires_at, client_id
    )
    blob = encrypt_credentials(settings.resolved_secret_key(), creds)
    with engine.begin() as conn:
        actor = audit.admin_actor(conn, actor_id)
        existing = conn.execute(
            sa.select(accounts.c.id).where(
                accounts.c.platform == platform, accounts.c.external_user_id == me.external_id
            )
        ).scalar()
        values = {
            "username": me.username,
            "display_name": me.name,
            "purpose": purpose,
            "base_url": base_url,
            "credentials_encrypted": blob,
            "active": True,
        }
        if existing is None:
            account_id = conn.execute(
                accounts.insert()
                .values(platform=platform, external_user_id=me.external_id, created_at=utcnow(), **values)
                .returning(accounts.c.id)
            ).scalar_one()
        else:
            account_id = existing
            conn.execute(accounts.update().where(accounts.c.id == account_id).values(**values))
        _ensure_default_sources(conn, account_id, settings)
        audit.record(
            conn,
            actor_id,
            actor,
            "account.connect" if existing is None else "account.update",
            "account",
            account_id,
            {"platform": platform, "username": me.username, "purpose": purpose, "base_url": base_url},
        )
    for rec in calls:  # the verification read is billed too
        record_call(engine, account_id, rec.endpoint, rec.items, resources=rec.resources)
    with engine.connect() as conn:
        row = conn.execute(sa.select(accounts).where(accounts.c.id == account_id)).one()
    log.info("account %s connected (@%s, %s)", account_id, me.username, platform)
    return _info(row)


def add_account_from_oauth(
    engine: Engine,
    settings: Settings,
    *,
    base_url: str,
    access_token: str,
    refresh_token: str | None,
    expires_in: float | None,
    purpose: str = "care",
    client_id: str | None = None,
    actor_id: int | None = None,
) -> AccountInfo:
    """The web app's PKCE flow ends here: store the token set (access + refresh + expiry)."""
    expires_at = time.time() + float(expires_in) if expires_in else None
    return add_account(
        engine,
        settings,
        base_url=base_url,
        token=access_token,
        purpose=purpose,
        refresh_token=refresh_token,
        expires_at=expires_at,
        client_id=client_id,
        actor_id=actor_id,
    )


def disconnect_account(engine: Engine, account_id: int, *, actor_id: int | None = None) -> AccountInfo:
    """Stop polling an account: the worker skips the sources of an inactive account. Its messages,
    sources and credentials are kept; connecting the same account again resumes it."""
    with engine.begin() as conn:
        actor = audit.admin_actor(conn, actor_id)
        row = conn.execute(
            accounts.update()
            .where(accounts.c.id == account_id)
            .values(active=False)
            .returning(accounts.c.platform, accounts.c.username)
        ).first()
        if row is None:
            raise AccountError(f"no account with id {account_id}: see `flockdesk accounts list`")
        audit.record(
            conn,
            actor_id,
            actor,
            "account.disconnect",
            "account",
            account_id,
            {"platform": row.platform, "username": row.username},
        )
    return get_account(engine, account_id)


def list_accounts(engine: Engine) -> list[AccountInfo]:
    with engine.connect() as conn:
        return [_info(r) for r in conn.execute(sa.select(accounts).order_by(accounts.c.id))]


def set_api_version(
    engine: Engine, account_id: int, version: str | None, *, actor_id: int | None = None
) -> None:
    """Which OpenAPI spec the account's API host speaks (None: the platform's current one); the
    parameters its sources had degraded are forgotten, to be learnt again under the new spelling."""
    info = get_account(engine, account_id)
    known, _default = registry.api_versions(info.platform)
    if version is not None and version not in known:
        choices = ", ".join(known) or "none"
        raise AccountError(f"unknown API version {version!r} for this platform: one of {choices}")
    with engine.begin() as conn:
        actor = audit.admin_actor(conn, actor_id)
        conn.execute(accounts.update().where(accounts.c.id == account_id).values(api_version=version))
        # what the old version's spelling learnt does not apply to the new one
        conn.execute(sources.update().where(sources.c.account_id == account_id).values(degraded=None))
        audit.record(
            conn, actor_id, actor, "account.api_version", "account", account_id, {"api_version": version}
        )


def get_account(engine: Engine, account_id: int) -> AccountInfo:
    with engine.connect() as conn:
        row = conn.execute(sa.select(accounts).where(accounts.c.id == account_id)).first()
    if row is None:
        raise AccountError(f"no account with id {account_id}: see `flockdesk accounts list`")
    return _info(row)


def load_credentials(engine: Engine, settings: Settings, account_id: int) -> Credentials:
    with engine.connect() as conn:
        blob = conn.execute(
            sa.select(accounts.c.credentials_encrypted).where(accounts.c.id == account_id)
        ).scalar()
    if blob is None:
        raise AccountError(f"no account with id {account_id}")
    return decrypt_credentials(settings.resolved_secret_key(), blob)


def fresh_credentials(
    engine: Engine, settings: Settings, account_id: int, *, now: float | None = None
) -> Credentials:
    """The account's credentials, refreshed first (and stored) when the access token has expired."""
    creds = load_credentials(engine, settings, account_id)
    now = time.time() if now is None else now
    if creds.expires_at is None or creds.expires_at - REFRESH_MARGIN_S > now or creds.refresh_token is None:
        return creds
    info = get_account(engine, account_id)
    base_url = _safe_url(info.base_url, settings)
    tokens = registry.profile(info.platform).refresh_access_token(
        base_url, creds.refresh_token.reveal(), client_id=creds.client_id, timeout_s=settings.http_timeout_s
    )
    new = Credentials(
        Secret(tokens.access_token),
        Secret(tokens.refresh_token) if tokens.refresh_token else creds.refresh_token,
        tokens.expires_at,
        creds.client_id,
    )
    with engine.begin() as conn:
        conn.execute(
            accounts.update()
            .where(accounts.c.id == account_id)
            .values(credentials_encrypted=encrypt_credentials(settings.resolved_secret_key(), new))
        )
    log.info("account %s: access token refreshed", account_id)
    return new


def load_chat_keys(engine: Engine, settings: Settings, account_id: int) -> ChatKeys | None:
    """The account's encrypted-chat keys (services/accounts/xchat_keys.py), None when it has none or
    they cannot be decrypted with this secret key."""
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(accounts.c.xchat_keys_encrypted, accounts.c.xchat_key_version).where(
                accounts.c.id == account_id
            )
        ).first()
    if row is None or row.xchat_keys_encrypted is None or not row.xchat_key_version:
        return None
    try:
        blob = fernet_for(settings.resolved_secret_key()).decrypt(bytes(row.xchat_keys_encrypted))
    except InvalidToken:
        log.warning("account %s: the stored X Chat keys cannot be decrypted with this secret key", account_id)
        return None
    return ChatKeys(blob, str(row.xchat_key_version))


def connector_for_account(
    engine: Engine, settings: Settings, account_id: int, *, on_call: CallObserver | None = None, **kwargs: Any
) -> Connector:
    """A connector for the account, with fresh credentials and the account's own user id."""
    info = get_account(engine, account_id)
    creds = fresh_credentials(engine, settings, account_id)
    return registry.connector_for(
        info.platform,
        info.base_url,
        creds.access_token.reveal(),
        org_user_id=info.external_user_id,
        timeout_s=settings.http_timeout_s,
        on_call=on_call,
        chat_keys=lambda: load_chat_keys(engine, settings, account_id),
        **({"api_version": info.api_version} if info.api_version else {}),
        **kwargs,
    )
