"""`flockdesk triage` and `flockdesk check-reply`: JSONL filters over files or stdin."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, BinaryIO

import typer

from flockdesk.cli.common import fail
from flockdesk.triage.jsonl import LineCounts, check_reply_record, process_lines, triage_record

FileArg = Annotated[
    Path | None,
    typer.Argument(
        help="JSONL file to read (one message per line); standard input when omitted.", show_default=False
    ),
]
BATCH = 512


def _run(path: Path | None, handler: Callable[[Mapping[str, Any], int], dict[str, Any]]) -> None:
    if path is not None and not path.is_file():
        raise fail(f"{path} is not a readable file; give a JSONL file or pipe the lines on standard input")
    out: BinaryIO = sys.stdout.buffer
    counts = LineCounts()
    src = path.open("rb") if path is not None else sys.stdin.buffer
    try:
        buf: list[bytes] = []
        for line in process_lines(src, handler, counts):
            buf.append(line)
            if len(buf) >= BATCH:
                out.write(b"".join(buf))
                out.flush()
                buf.clear()
        out.write(b"".join(buf))
        out.flush()
    finally:
        if path is not None:
            src.close()
    if counts.failed:
        # Every line was answered; the exit status tells a script that some lines need fixing.
        typer.echo(
            f'{counts.failed} of {counts.done + counts.failed} lines could not be read (see their "error")',
            err=True,
        )
        raise typer.Exit(1)


def triage_cmd(file: FileArg = None) -> None:
    """Label messages: reads {"id","text","channel"?,"author"?} lines, writes one label line per input."""
    _run(file, triage_record)


def check_reply_cmd(file: FileArg = None) -> None:
    """Guard draft replies: reads {"id","text","kind"?} lines ("public" default, or "dm"), writes one verdict
    line per input with "ok" false for empty, too long, or (in public) personal data asked for or shown."""
    _run(file, check_reply_record)


def register(app: typer.Typer) -> None:
    app.command("triage")(triage_cmd)
    app.command("check-reply")(check_reply_cmd)
