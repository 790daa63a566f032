"""`flockdesk stats [--json]`: what the store holds, for people and scripts."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import OperationalError

from flockdesk.cli.common import DataDirOpt, fail, settings_from
from flockdesk.store.db import make_engine, upgrade
from flockdesk.store.repo import stats


def _table(data: dict[str, Any]) -> Table:
    table = Table(title="Flockdesk store")
    table.add_column("what")
    table.add_column("count", justify="right")
    for section in ("messages", "conversations", "outbox"):
        block = data[section]
        table.add_row(f"[bold]{section}[/]", str(block["total"]))
        for group, counts in block.items():
            if isinstance(counts, dict):
                for key, n in sorted(counts.items()):
                    table.add_row(f"  {group.replace('_', ' ')}: {key}", str(n))
    table.add_row("[bold]contacts[/]", str(data["contacts"]))
    table.add_row("[bold]dead letters[/]", str(data["dead_letters"]))
    return table


def stats_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    data_dir: DataDirOpt = None,
) -> None:
    """Counts of messages, conversations, contacts, dead letters and outbox rows."""
    engine = make_engine(settings_from(data_dir))
    try:
        upgrade(engine)  # a fresh data directory reports zeros instead of failing
        data = stats(engine)
    except OperationalError as exc:
        raise fail(f"cannot open the store ({exc.orig}): check --data-dir / FLOCKDESK_DATABASE_URL") from exc
    finally:
        engine.dispose()
    if as_json:
        typer.echo(orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode())
    else:
        Console().print(_table(data))


def register(app: typer.Typer) -> None:
    app.command("stats")(stats_command)
