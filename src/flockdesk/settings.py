"""One typed Settings object, built by the app factory / CLI, never at import time.

Every field is documented in docs/settings.md; tests/test_settings_doc.py keeps the two in step.
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import os
import secrets
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=16)
def parse_networks(spec: str) -> tuple[IPNetwork, ...]:
    """Comma-separated IP addresses / CIDR ranges; ValueError naming the bad entry."""
    networks = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ValueError(
                f"trusted_proxies: {part!r} is not an IP address or CIDR range (e.g. 10.0.0.5 or "
                "10.0.0.0/8); separate several with commas"
            ) from None
    return tuple(networks)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FLOCKDESK_", env_file=".env", extra="ignore")

    data_dir: Path = Field(
        default=Path("flockdesk-data"), description="Directory for the SQLite store and keys."
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; PostgreSQL e.g. postgresql+psycopg://127.0.0.1/test. "
        "Default: SQLite in data_dir.",
    )
    secret_key: str | None = Field(
        default=None,
        description="Key for encrypting credentials at rest and signing sessions. "
        "Default: generated once into data_dir/secret.key (mode 0600).",
    )
    monthly_budget_usd: float = Field(
        default=200.0, description="Monthly X API budget; polling slows before it."
    )
    poll_mentions_s: float = Field(default=60.0, description="Seconds between mention timeline polls.")
    poll_search_s: float = Field(default=60.0, description="Seconds between polls of each listening query.")
    poll_dms_s: float = Field(default=65.0, description="Seconds between DM polls (X allows 15 per 15 min).")
    http_timeout_s: float = Field(default=10.0, description="Timeout of one HTTP request to a platform.")
    sqlite_busy_timeout_ms: int = Field(default=10000, description="SQLite busy timeout in milliseconds.")
    db_statement_timeout_s: float = Field(
        default=15.0,
        description="PostgreSQL statement timeout in seconds: a query stuck behind a lock fails instead "
        "of hanging the request (0 = no limit).",
    )
    alert_webhook_url: str | None = Field(default=None, description="URL that receives spike alerts as JSON.")
    log_level: str = Field(default="INFO", description="Logging level.")
    secure_cookies: bool = Field(default=False, description="Mark session cookies Secure (set behind TLS).")
    outbox_grace_s: float = Field(
        default=300.0,
        ge=0,
        description="Seconds a send interrupted mid-way waits for its echo from the platform before the "
        "worker marks it failed ('check X before retrying').",
    )
    max_request_body_bytes: int = Field(
        default=1_048_576,
        ge=1,
        description="Largest request body the web app accepts, in bytes; bigger ones get 413 unread.",
    )
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated IP addresses or CIDR ranges of reverse proxies whose "
        "X-Forwarded-For / X-Forwarded-Proto headers are believed. Empty: none.",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _check_trusted_proxies(cls, value: str) -> str:
        parse_networks(value)
        return value

    def trusted_proxy_networks(self) -> tuple[IPNetwork, ...]:
        return parse_networks(self.trusted_proxies)

    def ensure_data_dir(self) -> Path:
        """The data directory, created owner-only (0700) when it does not exist yet."""
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        return self.data_dir

    allowed_api_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Hosts (or host:port) an account's API base URL may point at although they are not "
        "public https hosts, e.g. 127.0.0.1 for the emulator; comma-separated in the environment. "
        "Default: none (public https hosts only).",
    )

    @field_validator("allowed_api_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [h.strip() for h in value.split(",") if h.strip()]
        return value

    lease_ttl_s: float = Field(
        default=60.0,
        gt=0,
        description="Seconds a worker's lease on a source or a periodic job lasts without a heartbeat "
        "(renewed every third of it): a killed worker's work is taken over this long after.",
    )

    x_app_bearer_token: str | None = Field(
        default=None,
        description="The X developer app's bearer token (app-only). When set, the worker subscribes each "
        "connected X account to real-time events and reads them from the X Activity API's persistent "
        "stream. Never printed or logged.",
    )
    x_consumer_secret: str | None = Field(
        default=None,
        description="The X app's consumer secret (API key secret): answers X's webhook CRC challenge and "
        "checks the signature of every delivery to /webhooks/x. Without it that route answers 404. "
        "Never printed or logged.",
    )
    x_webhook_url: str | None = Field(
        default=None,
        description="The public https URL of this install's /webhooks/x (e.g. "
        "https://desk.example.com/webhooks/x). When set (with x_consumer_secret and x_app_bearer_token), "
        "events are delivered there instead of through the stream.",
    )
    realtime_live_window_s: float = Field(
        default=90.0,
        gt=0,
        description="An account is live while its stream delivered an event or a keep-alive (or its "
        "webhook an event or a CRC check) within this many seconds; otherwise it is polled as before.",
    )
    realtime_poll_slowdown: float = Field(
        default=10.0,
        ge=1,
        description="While an account is live, its mentions and DM polls (kept for backfill and "
        "reconciliation) run this many times less often.",
    )
    realtime_stall_timeout_s: float = Field(
        default=60.0,
        gt=0,
        description="A stream that sends nothing, not even a keep-alive (X sends one every 20 s), for "
        "this many seconds is dropped and reconnected.",
    )
    webhook_replay_window_s: float = Field(
        default=259_200.0,
        gt=0,
        description="How long the id of each webhook delivery is kept to refuse a replay of it; a "
        "delivery of an event older than this is refused too.",
    )
    ai_url: str | None = Field(
        default=None,
        description="Base URL of an OpenAI-compatible chat completions API (e.g. http://127.0.0.1:8080/v1) "
        "that suggests reply drafts and summaries. Unset: no AI features (the default).",
    )
    ai_api_key: str | None = Field(
        default=None, description="Bearer key for ai_url, if it needs one. Never printed or logged."
    )
    ai_model: str = Field(default="gpt-4o-mini", description="Model name sent to ai_url.")
    ai_timeout_s: float = Field(
        default=20.0,
        gt=0,
        description="Seconds to wait for ai_url before the composer says it is unavailable.",
    )

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        self.ensure_data_dir()
        return f"sqlite:///{(self.data_dir / 'flockdesk.db').resolve()}"

    def resolved_secret_key(self) -> str:
        """The key from settings, else one generated once and kept in the data directory."""
        if self.secret_key:
            return self.secret_key
        return read_or_create_key(self.ensure_data_dir() / "secret.key")


def read_or_create_key(path: Path) -> str:
    """The key in `path`, generating it first if the file does not exist.

    Safe when several processes start at once: the key is written and flushed to a private temporary
    file which is then hard-linked into place, so `path` only ever appears complete and the first
    link wins; the others read the winner's key.
    """
    if not path.exists():
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(32))
                fh.flush()
                os.fsync(fh.fileno())
            with contextlib.suppress(FileExistsError):  # another process made it first: use theirs
                os.link(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    key = path.read_text().strip()
    if not key:
        raise RuntimeError(
            f"{path} is empty. If no account credentials were stored with it, delete the file and a new "
            "key is generated; otherwise restore it from a backup (or set FLOCKDESK_SECRET_KEY)."
        )
    return key


def load_settings(**overrides: object) -> Settings:
    clean = {k: v for k, v in overrides.items() if v is not None}
    return Settings(**clean)  # type: ignore[arg-type]
