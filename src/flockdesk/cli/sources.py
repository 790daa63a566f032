"""`flockdesk sources add search|list|remove`: what the worker listens to."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from flockdesk.cli.common import DataDirOpt, fail, settings_from
from flockdesk.services.accounts.connected import AccountError
from flockdesk.services.accounts.sources import QueryError, add_search_source, list_sources, remove_source
from flockdesk.store.db import make_engine, upgrade

sources_app = typer.Typer(help="Listening sources (mentions, DMs, search queries).", no_args_is_help=True)


@sources_app.command("add")
def sources_add(
    kind: Annotated[
        str, typer.Argument(help="Only `search` can be added (mentions and DMs come with the account).")
    ],
    query: Annotated[str, typer.Argument(help='X search query, e.g. "#acmehelp OR @acme".')],
    account_id: Annotated[int | None, typer.Option("--account-id", help="Account to search with.")] = None,
    include_retweets: Annotated[
        bool, typer.Option("--include-retweets", help="Do not append -is:retweet.")
    ] = False,
    data_dir: DataDirOpt = None,
) -> None:
    """Add a listening query (normalised; retweets excluded unless --include-retweets)."""
    if kind != "search":
        raise fail(f"cannot add a {kind!r} source: mentions and dms come with each account; use `search`")
    settings = settings_from(data_dir)
    engine = make_engine(settings)
    try:
        upgrade(engine)
        info = add_search_source(
            engine, settings, query, account_id=account_id, include_retweets=include_retweets
        )
    except (QueryError, AccountError) as exc:
        raise fail(str(exc)) from None
    finally:
        engine.dispose()
    typer.echo(f"added source {info.id}: search {info.query!r} on @{info.account_username}")


@sources_app.command("list")
def sources_list(data_dir: DataDirOpt = None) -> None:
    """Every source with its cursor and schedule."""
    engine = make_engine(settings_from(data_dir))
    try:
        upgrade(engine)
        rows = list_sources(engine)
    finally:
        engine.dispose()
    table = Table(title="Sources")
    for col in ("id", "account", "kind", "query", "enabled", "every (s)", "since id", "next poll"):
        table.add_column(col)
    for s in rows:
        table.add_row(
            str(s.id),
            f"@{s.account_username}",
            s.kind,
            s.query or "",
            "yes" if s.enabled else "no",
            f"{s.poll_interval_s:g}",
            s.since_id or "",
            str(s.next_poll_at or ""),
        )
    Console().print(table)


@sources_app.command("remove")
def sources_remove(
    source_id: Annotated[int, typer.Argument(help="Source id (see `sources list`).")],
    data_dir: DataDirOpt = None,
) -> None:
    """Stop listening to a source (messages already stored are kept)."""
    engine = make_engine(settings_from(data_dir))
    try:
        upgrade(engine)
        remove_source(engine, source_id)
    except QueryError as exc:
        raise fail(str(exc)) from None
    finally:
        engine.dispose()
    typer.echo(f"removed source {source_id}")


def register(app: typer.Typer) -> None:
    app.add_typer(sources_app, name="sources")
