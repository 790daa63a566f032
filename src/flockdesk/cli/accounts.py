"""`flockdesk accounts add|list|disconnect|xchat-keys|webhook`: connect platform accounts and set up
how their events arrive. Tokens and secrets are never printed."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from flockdesk.cli.common import DataDirOpt, fail, settings_from
from flockdesk.services.accounts import xchat_keys
from flockdesk.services.accounts.connected import (
    AccountError,
    add_account,
    disconnect_account,
    list_accounts,
)
from flockdesk.services.accounts.credentials import CredentialsError
from flockdesk.services.realtime import webhook_registration
from flockdesk.store.db import make_engine, upgrade

accounts_app = typer.Typer(help="Connected platform accounts.", no_args_is_help=True)
webhook_app = typer.Typer(
    help="Real-time events delivered to this install's /webhooks/x (FLOCKDESK_X_WEBHOOK_URL).",
    no_args_is_help=True,
)
accounts_app.add_typer(webhook_app, name="webhook")


@accounts_app.command("add")
def accounts_add(
    platform: Annotated[str, typer.Argument(help="Platform: x.")],
    base_url: Annotated[str, typer.Option("--base-url", help="API base URL, e.g. https://api.x.com.")],
    token: Annotated[
        str, typer.Option("--token", help="OAuth 2.0 user access token.", envvar="FLOCKDESK_TOKEN")
    ],
    purpose: Annotated[str, typer.Option("--purpose", help="care | corporate | personal.")] = "care",
    data_dir: DataDirOpt = None,
) -> None:
    """Verify TOKEN with GET /2/users/me, store the account encrypted, and add its mentions and DM sources."""
    settings = settings_from(data_dir)
    engine = make_engine(settings)
    try:
        upgrade(engine)
        info = add_account(
            engine, settings, base_url=base_url, token=token, platform=platform, purpose=purpose
        )
    except (AccountError, CredentialsError) as exc:
        raise fail(str(exc)) from None
    finally:
        engine.dispose()
    typer.echo(
        f"connected account {info.id}: @{info.username} ({info.platform}, {info.purpose}) at {info.base_url}"
    )
    typer.echo('sources: mentions, dms. Add a listening query with: flockdesk sources add search "QUERY"')


@accounts_app.command("list")
def accounts_list(data_dir: DataDirOpt = None) -> None:
    """The connected accounts (credentials are never shown)."""
    engine = make_engine(settings_from(data_dir))
    try:
        upgrade(engine)
        rows = list_accounts(engine)
    finally:
        engine.dispose()
    if not rows:
        typer.echo("no accounts yet: flockdesk accounts add x --base-url URL --token TOKEN")
        return
    table = Table(title="Accounts")
    for col in ("id", "platform", "user", "name", "purpose", "base url", "active"):
        table.add_column(col)
    for a in rows:
        table.add_row(
            str(a.id),
            a.platform,
            f"@{a.username}",
            a.display_name,
            a.purpose,
            a.base_url,
            "yes" if a.active else "no",
        )
    Console().print(table)


@accounts_app.command("disconnect")
def accounts_disconnect(
    account_id: Annotated[int, typer.Argument(help="Account id (see `accounts list`).")],
    data_dir: DataDirOpt = None,
) -> None:
    """Stop polling an account (messages, sources and credentials are kept; `accounts add` resumes it)."""
    engine = make_engine(settings_from(data_dir))
    try:
        upgrade(engine)
        info = disconnect_account(engine, account_id)
    except AccountError as exc:
        raise fail(str(exc)) from None
    finally:
        engine.dispose()
    typer.echo(f"disconnected account {info.id} (@{info.username})")


@accounts_app.command("xchat-keys")
def accounts_xchat_keys(
    account_id: Annotated[int, typer.Argument(help="Account id (see `accounts list`).")],
    generate: Annotated[
        bool, typer.Option("--generate", help="Generate new X Chat keys and register them on X.")
    ] = False,
    import_file: Annotated[
        Path | None, typer.Option("--import", help="Restore keys from a backup FILE (--export wrote it).")
    ] = None,
    export_file: Annotated[
        Path | None, typer.Option("--export", help="Write a backup of the keys to FILE (mode 0600).")
    ] = None,
    data_dir: DataDirOpt = None,
) -> None:
    """The account's X Chat keys: without an option, their state. The keys are never printed."""
    chosen = [o for o in (generate, import_file, export_file) if o]
    if len(chosen) > 1:
        raise fail("choose one of --generate, --import FILE, --export FILE")
    settings = settings_from(data_dir)
    engine = make_engine(settings)
    try:
        upgrade(engine)
        if generate:
            state = xchat_keys.generate(engine, settings, account_id)
        elif import_file is not None:
            try:
                blob = import_file.read_bytes()
            except OSError as exc:
                raise fail(f"cannot read {import_file}: {exc.strerror}") from None
            state = xchat_keys.import_backup(engine, settings, account_id, blob)
        elif export_file is not None:
            blob = xchat_keys.export_backup(engine, settings, account_id)
            fd = os.open(export_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(blob)
            typer.echo(f"wrote a backup of the X Chat keys to {export_file}: keep it secret and safe")
            return
        else:
            state = xchat_keys.status(engine, settings, account_id)
    except (AccountError, CredentialsError) as exc:
        raise fail(str(exc)) from None
    finally:
        engine.dispose()
    typer.echo(state.message)


@webhook_app.command("register")
def webhook_register(data_dir: DataDirOpt = None) -> None:
    """Register FLOCKDESK_X_WEBHOOK_URL with X (once: an existing registration is reused) and point
    every connected account's event subscriptions at it. The worker does the same at start."""
    settings = settings_from(data_dir)
    engine = make_engine(settings)
    try:
        upgrade(engine)
        done = webhook_registration.setup_all(engine, settings)
    except (AccountError, CredentialsError, webhook_registration.WebhookSetupError) as exc:
        raise fail(str(exc)) from None
    finally:
        engine.dispose()
    for hook, created, reports in done:
        verb = "registered" if created else "already registered"
        typer.echo(f"{hook.platform} webhook {hook.webhook_id} {verb} for {hook.url} (API {hook.base_url})")
        for r in reports:
            typer.echo(
                f"  account {r.account_id}: {len(r.created)} subscriptions created, {len(r.moved)} moved "
                f"to the webhook, {len(r.existing)} in place" + (f"; refused: {r.error}" if r.error else "")
            )


@webhook_app.command("show")
def webhook_show(data_dir: DataDirOpt = None) -> None:
    """The webhooks recorded for this install: id, URL, valid, last error."""
    settings = settings_from(data_dir)
    engine = make_engine(settings)
    try:
        upgrade(engine)
        states = webhook_registration.list_states(engine)
    finally:
        engine.dispose()
    if not states:
        typer.echo(
            "no webhook registered: set FLOCKDESK_X_WEBHOOK_URL and run `flockdesk accounts webhook register`"
        )
        return
    for st in states:
        typer.echo(
            f"{st.platform} {st.base_url}: webhook {st.webhook_id or '-'} for {st.url}, "
            f"{'valid' if st.valid else 'not valid'}"
            + (f"; last error: {st.last_error}" if st.last_error else "")
        )


def register(app: typer.Typer) -> None:
    app.add_typer(accounts_app, name="accounts")
