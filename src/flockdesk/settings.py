"""One typed Settings object, built by the app factory / CLI, never at import time.

Every field is documented in docs/settings.md; tests/test_settings_doc.py keeps the two in step.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{(self.data_dir / 'flockdesk.db').resolve()}"

    def resolved_secret_key(self) -> str:
        """The key from settings, else one generated once and kept in the data directory."""
        if self.secret_key:
            return self.secret_key
        self.data_dir.mkdir(parents=True, exist_ok=True)
        path = self.data_dir / "secret.key"
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(32))
        return path.read_text().strip()


def load_settings(**overrides: object) -> Settings:
    clean = {k: v for k, v in overrides.items() if v is not None}
    return Settings(**clean)  # type: ignore[arg-type]
