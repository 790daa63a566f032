"""Credentials at rest: Fernet encryption with a key derived from the settings' secret key.

Tokens travel inside `Secret`, whose repr and str are `***`, so a credential that reaches a log line,
a traceback's locals or a Rich table prints as stars. Call `.reveal()` only where the value must go on
the wire.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_INFO = b"flockdesk credentials v1"


class Secret:
    """A string that never shows itself in repr/str/format."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def __format__(self, spec: str) -> str:
        return "***"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


@dataclass(frozen=True)
class Credentials:
    """An account's tokens. `expires_at` is a Unix time (None: does not expire)."""

    access_token: Secret
    refresh_token: Secret | None = None
    expires_at: float | None = None
    client_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token.reveal(),
            "refresh_token": self.refresh_token.reveal() if self.refresh_token else None,
            "expires_at": self.expires_at,
            "client_id": self.client_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Credentials:
        refresh = data.get("refresh_token")
        return cls(
            access_token=Secret(str(data["access_token"])),
            refresh_token=Secret(str(refresh)) if refresh else None,
            expires_at=float(data["expires_at"]) if data.get("expires_at") is not None else None,
            client_id=data.get("client_id"),
        )


class CredentialsError(Exception):
    """Stored credentials cannot be read with this key (the secret key changed?)."""


def fernet_for(secret_key: str) -> Fernet:
    """Derive the Fernet key from the configured secret (HKDF-SHA256), never use it raw."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"flockdesk", info=_INFO)
    return Fernet(base64.urlsafe_b64encode(hkdf.derive(secret_key.encode())))


def encrypt_credentials(secret_key: str, creds: Credentials) -> bytes:
    return fernet_for(secret_key).encrypt(json.dumps(creds.to_json()).encode())


def decrypt_credentials(secret_key: str, blob: bytes) -> Credentials:
    try:
        data = json.loads(fernet_for(secret_key).decrypt(bytes(blob)))
    except InvalidToken as exc:
        raise CredentialsError(
            "stored credentials cannot be decrypted: FLOCKDESK_SECRET_KEY (or data_dir/secret.key) "
            "differs from the one used when the account was added; restore it or re-add the account"
        ) from exc
    return Credentials.from_json(data)
