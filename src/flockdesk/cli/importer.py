"""`flockdesk import FILE`: X API v2 pages or twarc2 JSONL into the store, with a progress bar."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy.exc import OperationalError

from flockdesk.cli.common import DataDirOpt, fail, settings_from
from flockdesk.services.ingest.importer import ImportFormatError, ensure_import_account, import_file
from flockdesk.services.ingest.labels import fill_missing_labels
from flockdesk.store.db import make_engine, upgrade


def import_command(
    file: Annotated[Path, typer.Argument(help="JSON (response pages) or JSONL (one page or post per line).")],
    account_id: Annotated[
        int | None,
        typer.Option("--account-id", help="Account the messages belong to (default: an import account)."),
    ] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Messages per transaction.")] = 5000,
    no_triage: Annotated[
        bool,
        typer.Option(
            "--no-triage",
            help="Store messages without triage labels (a faster raw archive load); "
            "fill them later with `flockdesk label-stored`.",
        ),
    ] = False,
    data_dir: DataDirOpt = None,
) -> None:
    """Import X API v2 response pages or JSONL (as twarc2 writes them) into the store.

    Inbound messages are triaged as they are stored, as the worker does; --no-triage skips it
    (`flockdesk label-stored` adds the labels later)."""
    if not file.is_file():
        raise fail(f"{file}: no such file; give the path of a JSON or JSONL file")
    settings = settings_from(data_dir)
    engine = make_engine(settings)
    err = Console(stderr=True)
    try:
        upgrade(engine)  # an empty store gets its tables first (`flockdesk db upgrade`)
        if account_id is None:
            account_id = ensure_import_account(engine, settings.resolved_secret_key(), platform="x")
        with Progress(
            TextColumn("[bold]importing[/] {task.description}"),
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            console=err,
            transient=False,
        ) as progress:
            task = progress.add_task(file.name, total=file.stat().st_size)
            report = import_file(
                engine,
                file,
                account_id,
                batch_size=batch_size,
                triage=not no_triage,
                on_bytes=lambda n: progress.advance(task, n),
                on_bad_line=lambda n, reason: progress.console.print(
                    f"[yellow]skipped[/] {reason}", markup=True, highlight=False
                ),
            )
    except ImportFormatError as exc:
        raise fail(str(exc)) from exc
    except OperationalError as exc:
        raise fail(
            f"cannot open the store ({exc.orig}): check --data-dir / FLOCKDESK_DATABASE_URL; "
            "nothing was imported from the batch that failed, re-run the import to finish it"
        ) from exc
    finally:
        engine.dispose()
    r = report.result
    assert r is not None
    typer.echo(
        f"imported {r.inserted} messages ({r.duplicates} already stored, {r.conversations_created} new "
        f"conversations, {r.dead_letters} dead letters, {len(report.bad_lines)} malformed lines skipped) "
        f"into account {account_id}"
    )


def label_stored_command(
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Messages per transaction.")] = 2000,
    data_dir: DataDirOpt = None,
) -> None:
    """Triage stored inbound messages that have no labels yet (after `flockdesk import --no-triage`)."""
    engine = make_engine(settings_from(data_dir))
    try:
        upgrade(engine)
        done = fill_missing_labels(engine, batch_size=batch_size)
    except OperationalError as exc:
        raise fail(
            f"cannot open the store ({exc.orig}): check --data-dir / FLOCKDESK_DATABASE_URL; "
            "labels already written are kept, re-run to finish"
        ) from exc
    finally:
        engine.dispose()
    typer.echo(f"labelled {done} messages")


def register(app: typer.Typer) -> None:
    app.command("import")(import_command)
    app.command("label-stored")(label_stored_command)
