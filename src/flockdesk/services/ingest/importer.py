"""Import of exported archives (X: API v2 JSON / JSONL files as twarc2 writes them) through the
same Ingestor. The account's platform parses each line (its profile's `ArchiveParser`, from the
connector registry).

A malformed line is reported with its line number, recorded as a dead letter with the reason and
skipped; everything else in the file is kept, wherever the bad lines are (the first lines included).
So is a line over MAX_LINE_BYTES (read in chunks, never held whole), and an item the store cannot
hold (nested too deep, its JSON over domain/limits.py's MAX_RAW_BYTES): each becomes a dead letter.
Text over MAX_TEXT_CHARS is stored truncated, with a dead letter that says so. Progress is reported
in bytes read.

What the file is: JSONL when any line holds a JSON object or array; else one JSON document (a
pretty-printed page or array, up to MAX_DOCUMENT_BYTES, read whole); else it is refused with an
error and nothing is stored.

Imported inbound messages are triaged as they are stored, like polled ones, with the same
hook as the worker (`default_triage`). `triage=False` (`flockdesk import --no-triage`) loads a raw
archive faster and leaves the label columns empty; `flockdesk label-stored`
(services/ingest/labels.py) fills them later.
"""

from __future__ import annotations

import gc
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import orjson
from sqlalchemy import Engine

from flockdesk.connectors import registry
from flockdesk.connectors.base import ArchiveParser
from flockdesk.domain.errors import InvalidInput
from flockdesk.domain.types import DeadLetter, InboundItem
from flockdesk.domain.utc import utcnow
from flockdesk.services.accounts.credentials import Credentials, Secret, encrypt_credentials
from flockdesk.services.ingest.ingestor import Ingestor, IngestResult, default_triage
from flockdesk.store.repo import account_by_external_user, get_account
from flockdesk.store.schema import accounts

IMPORT_USER_ID = "import"
MAX_LINE_BYTES = 64 * 1024 * 1024  # one JSONL line (a page of posts, or one very long post)
MAX_DOCUMENT_BYTES = 256 * 1024 * 1024  # a single (pretty-printed) JSON document, parsed whole
CHUNK = 1024 * 1024
# orjson briefly needs about 13 bytes per character of a long string (650 MB for a 50 MB post); the
# standard library needs about 2, so lines above this size are decoded with it (slower, rarely used)
LEAN_DECODE_BYTES = 4 * 1024 * 1024
MAX_DEAD_PAYLOAD = 100_000  # what a dead letter keeps of a line
# An import allocates millions of short-lived containers (decoded pages, parsed items, row dicts)
# that form no reference cycles. At Python's default first threshold (700) the cyclic collector
# runs thousands of times per file, and its older generations walk every live object, the imported
# modules included: about a fifth of an import's CPU. At this threshold it runs about once a batch.
GC_THRESHOLD = 200_000
_gc_lock = threading.Lock()
_gc_running: list[tuple[int, int, int]] = []  # one entry per running import: the thresholds before


class ImportFormatError(InvalidInput):
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


def _lines(fh: BinaryIO) -> Iterator[tuple[bytes | None, int]]:
    """(line, bytes read) for each line; a line over MAX_LINE_BYTES comes as (None, its length),
    read in chunks and dropped, so memory stays bounded whatever the file holds."""
    while True:
        line = fh.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        if len(line) <= MAX_LINE_BYTES or line.endswith(b"\n"):
            yield line, len(line)
            continue
        size = len(line)
        while not line.endswith(b"\n"):
            line = fh.readline(CHUNK)
            if not line:
                break
            size += len(line)
        yield None, size


def _loads(line: bytes) -> Any:
    """One JSON document; ValueError when it is not one."""
    if len(line) <= LEAN_DECODE_BYTES:
        return orjson.loads(line)
    try:
        return json.loads(line)
    except RecursionError as exc:
        raise ValueError("nested too deep to decode") from exc


def _container(line: bytes) -> bool:
    """True when the line is a JSON object or array: evidence that the file is JSONL."""
    if line[:64].lstrip()[:1] not in (b"{", b"["):
        return False
    try:
        return isinstance(_loads(line), dict | list)
    except ValueError:  # orjson's JSONDecodeError is one too
        return False


def _is_jsonl(path: Path) -> bool:
    """Whether any line holds a JSON object or array (read line by line, stops at the first)."""
    with path.open("rb") as fh:
        return any(line is not None and _container(line) for line, _ in _lines(fh))


def _documents(path: Path, on_bytes: Callable[[int], None]) -> Iterator[tuple[int, Any, str | None]]:
    """(line number, decoded object, error) for each document of a JSONL or JSON file; on a
    malformed line the object is the raw line text (or a note) and error says why."""
    if not _is_jsonl(path):
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(CHUNK)
        if not head.strip():
            return  # an empty file
        if size > MAX_DOCUMENT_BYTES:
            raise ImportFormatError(
                f"{path} is not JSONL and, at {size:,} bytes, too big to read as one JSON document "
                f"(limit {MAX_DOCUMENT_BYTES:,}): write one page or post per line (e.g. jq -c '.[]')"
            )
        try:
            whole = orjson.loads(path.read_bytes())
        except orjson.JSONDecodeError as exc:
            raise ImportFormatError(
                f"{path} is neither JSON nor JSONL ({exc}): give X API v2 response pages, "
                "or one page or post per line as twarc2 writes them; nothing was imported"
            ) from exc
        on_bytes(size)
        yield 1, whole, None
        return
    with path.open("rb") as fh:
        for number, (line, size) in enumerate(_lines(fh), 1):
            on_bytes(size)
            if line is None:
                yield number, "", f"the line is {size:,} bytes, over the {MAX_LINE_BYTES:,}-byte limit"
                continue
            if line.isspace():
                continue
            try:
                yield number, _loads(line), None
            except ValueError as exc:
                yield (
                    number,
                    line.rstrip(b"\r\n")[:MAX_DEAD_PAYLOAD].decode(errors="replace"),
                    f"malformed JSON ({exc})",
                )


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Raise the collector's first threshold while an import runs; restored when the last one ends."""
    with _gc_lock:
        before = _gc_running[0] if _gc_running else gc.get_threshold()
        _gc_running.append(before)
        gc.set_threshold(max(before[0], GC_THRESHOLD), before[1], before[2])
    try:
        yield
    finally:
        with _gc_lock:
            _gc_running.pop()
            if not _gc_running:
                gc.set_threshold(*before)


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
    with _fewer_collections():
        return _import(path, account_id, archive, org_user_id, ingestor, batch_size, on_bytes, on_bad_line)


def _import(
    path: Path,
    account_id: int,
    archive: ArchiveParser,
    org_user_id: str | None,
    ingestor: Ingestor,
    batch_size: int,
    on_bytes: Callable[[int], None],
    on_bad_line: Callable[[int, str], None],
) -> ImportReport:
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
            reason = f"line {number}: {bad}"
            report.bad_lines.append((number, reason))
            on_bad_line(number, reason)
            dead.append(DeadLetter(origin, reason, str(obj)[:MAX_DEAD_PAYLOAD]))
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
