"""Import of exported archives (X: API v2 JSON / JSONL files as twarc2 writes them) through the
same Ingestor. The account's platform parses each line (its profile's `ArchiveParser`, from the
connector registry).

A malformed line is reported with its line number, recorded as a dead letter with the reason and
skipped; everything else in the file is kept. Progress is reported in bytes read.

Imported inbound messages are triaged as they are stored, like polled ones (issue 4), with the same
hook as the worker (`default_triage`). `triage=False` (`flockdesk import --no-triage`) loads a raw
archive faster and leaves the label columns empty; `flockdesk label-stored`
(services/ingest/labels.py) fills them later.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine

from flockdesk.connectors import registry
from flockdesk.domain.types import DeadLetter, InboundItem
from flockdesk.domain.utc import utcnow
from flockdesk.services.accounts.credentials import Credentials, Secret, encrypt_credentials
from flockdesk.services.ingest.ingestor import Ingestor, IngestResult, default_triage
from flockdesk.store.repo import account_by_external_user, get_account
from flockdesk.store.schema import accounts

IMPORT_USER_ID = "import"
SNIFF_LINES = 10


class ImportFormatError(ValueError):
    """The file cannot be imported at all; the message says what to do."""


@dataclass
class ImportReport:
    account_id: int
    lines: int = 0
    bad_lines: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)
    result: IngestResult | None = None


def ensure_import_account(engine: Engine, secret_key: str, *, platform: str) -> int:
    """The account that imported files of `platform` belong to (purpose corporate, no credentials)."""
    registry.profile(platform)  # an unknown platform is refused before anything is stored
    with engine.begin() as conn:
        row = account_by_external_user(conn, platform, IMPORT_USER_ID)
        if row is not None:
            return int(row["id"])
        blob = encrypt_credentials(secret_key, Credentials(access_token=Secret("")))
        return int(
            conn.execute(
                accounts.insert().returning(accounts.c.id),
                {
                    "platform": platform,
                    "external_user_id": IMPORT_USER_ID,
                    "username": "import",
                    "display_name": "Imported archives",
                    "purpose": "corporate",
                    "base_url": "file://import",
                    "credentials_encrypted": blob,
                    "active": True,
                    "created_at": utcnow(),
                },
            ).scalar_one()
        )


def check_account(engine: Engine, account_id: int) -> tuple[str, str]:
    """The account's (external user id, platform); a clear error when it does not exist."""
    with engine.connect() as conn:
        row = get_account(conn, account_id)
    if row is None:
        raise ImportFormatError(f"no account with id {account_id}: list them with `flockdesk accounts list`")
    return str(row["external_user_id"]), str(row["platform"])


def _documents(path: Path, on_bytes: Callable[[int], None]) -> Iterator[tuple[int, Any, str | None]]:
    """(line number, decoded object, error) for each document of a JSONL or JSON file; on a
    malformed line the object is the raw line text and error says why."""
    with path.open("rb") as fh:
        head = [line for line in (fh.readline() for _ in range(SNIFF_LINES)) if line.strip()]
    parsed_any = False
    for line in head:
        try:
            orjson.loads(line)
            parsed_any = True
            break
        except orjson.JSONDecodeError:
            continue
    if not parsed_any:
        try:
            whole = orjson.loads(path.read_bytes())
        except orjson.JSONDecodeError as exc:
            if not head:
                return  # an empty file
            raise ImportFormatError(
                f"{path} is neither JSON nor JSONL ({exc}): give X API v2 response pages, "
                "or one page or post per line as twarc2 writes them"
            ) from exc
        on_bytes(path.stat().st_size)
        yield 1, whole, None
        return
    with path.open("rb") as fh:
        for number, line in enumerate(fh, 1):
            on_bytes(len(line))
            if not line.strip():
                continue
            try:
                yield number, orjson.loads(line), None
            except orjson.JSONDecodeError as exc:
                yield number, line.rstrip(b"\r\n").decode(errors="replace"), str(exc)


def import_file(
    engine: Engine,
    path: Path,
    account_id: int,
    *,
    batch_size: int = 5000,
    on_bytes: Callable[[int], None] = lambda n: None,
    on_bad_line: Callable[[int, str], None] = lambda n, reason: None,
    ingestor: Ingestor | None = None,
    triage: bool = True,
) -> ImportReport:
    if not path.is_file():
        raise ImportFormatError(f"{path}: no such file; give the path of a JSON or JSONL file")
    org, platform = check_account(engine, account_id)
    org_user_id = None if org == IMPORT_USER_ID else org
    archive = registry.profile(platform)
    if ingestor is None:
        hook = default_triage() if triage else None
        ingestor = Ingestor(engine, batch_size=batch_size, bulk=True, triage=hook)
    report = ImportReport(account_id, result=IngestResult(account_id))
    assert report.result is not None
    items: list[InboundItem] = []
    dead: list[DeadLetter] = []
    name = path.name[-40:]

    def flush() -> None:
        assert report.result is not None
        report.result.add(ingestor.ingest_many(account_id, items, dead=dead))
        items.clear()
        dead.clear()

    for number, obj, bad in _documents(path, on_bytes):
        report.lines = number
        origin = f"import:{name}:{number}"
        if bad is not None:
            reason = f"line {number}: malformed JSON ({bad})"
            report.bad_lines.append((number, reason))
            on_bad_line(number, reason)
            dead.append(DeadLetter(origin, reason, str(obj)[:100_000]))
            continue
        for got in archive.iter_archive_items(obj, org_user_id=org_user_id, origin=origin):
            if isinstance(got, DeadLetter):
                dead.append(DeadLetter(got.origin, f"line {number}: {got.reason}", got.payload))
            else:
                items.append(got)
        if len(items) >= batch_size:
            flush()
    if items or dead:
        flush()
    return report
