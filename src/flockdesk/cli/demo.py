"""`flockdesk demo`: the emulator, the worker and the web inbox together on SQLite, with live traffic."""

from __future__ import annotations

import contextlib
import logging
import secrets
import threading
import webbrowser
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import httpx
import typer
import uvicorn

from flockdesk.cli.common import fail
from flockdesk.emulator.scenario import load_scenario
from flockdesk.emulator.server import EmulatorServer
from flockdesk.jobs.worker import Worker
from flockdesk.services.accounts import connected as accounts
from flockdesk.services.accounts import sources, xchat_keys
from flockdesk.services.team import users
from flockdesk.settings import load_settings
from flockdesk.store.db import make_engine, upgrade
from flockdesk.web.app import create_app

log = logging.getLogger("flockdesk.demo")


def demo_command(
    port: Annotated[int, typer.Option("--port", help="Port of the web inbox.")] = 8000,
    data_dir: Annotated[Path, typer.Option("--data-dir", help="Where the demo's SQLite store lives.")] = Path(
        "flockdesk-demo"
    ),
    no_browser: Annotated[bool, typer.Option("--no-browser", help="Do not open a browser.")] = False,
    scenario: Annotated[
        str, typer.Option("--scenario", help="Emulator scenario: airline, college or alumni.")
    ] = "airline",
    seed: Annotated[int, typer.Option("--seed", help="Seed of the generated traffic.")] = 1,
    every: Annotated[
        float, typer.Option("--every", help="Seconds between bursts of new traffic (0: none).")
    ] = 6.0,
    no_realtime: Annotated[
        bool, typer.Option("--no-realtime", help="Poll only: no X Activity API stream.")
    ] = False,
    no_xchat: Annotated[
        bool, typer.Option("--no-xchat", help="No X Chat identity: customers DM by legacy DMs only.")
    ] = False,
) -> None:
    """Start the X API emulator, the worker and the web inbox; print the URL and an admin login."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        sc = load_scenario(scenario)
    except Exception as exc:
        raise fail(f"unknown scenario {scenario!r} ({exc}); use airline, college or alumni") from exc
    # Short polls for a lively demo; the emulator's speed-up keeps them within its (scaled) rate limits.
    settings = load_settings(
        data_dir=data_dir, database_url=None, poll_mentions_s=3.0, poll_search_s=3.0, poll_dms_s=3.0
    )
    engine = make_engine(settings)
    upgrade(engine)

    emu = EmulatorServer(scenario=scenario, seed=seed, speedup=60.0).start()
    if not no_realtime:  # real-time events through the emulator's activity stream (docs/realtime.md)
        settings.x_app_bearer_token = emu.app_bearer
    # the emulator listens on this machine: an address the server calls only when allowed by name
    settings.allowed_api_hosts = [*settings.allowed_api_hosts, urlsplit(emu.base_url).hostname or "127.0.0.1"]
    account = accounts.add_account(engine, settings, base_url=emu.base_url, token=emu.token)
    if not no_xchat:
        # Always new keys: the emulator starts empty on every run, so keys stored by an earlier demo
        # run are not registered with it. With keys registered, its customers also write by X Chat.
        try:
            xchat_keys.generate(engine, settings, account.id)
        except accounts.AccountError as exc:
            raise fail(f"could not set up the demo's X Chat identity: {exc}") from exc
    terms = [f"#{t.lstrip('#')}" for t in sc.hashtags] + [f'"{n}"' for n in sc.names]
    with contextlib.suppress(sources.QueryError):  # already listening since an earlier demo run
        sources.add_search_source(
            engine, settings, "(" + " OR ".join(terms) + ")", account_id=account.id, poll_interval_s=3.0
        )

    password = secrets.token_urlsafe(9)
    admin = users.get_user_by_username(engine, "admin")
    if admin is None:
        users.create_user(engine, "admin", password, "admin", name="Demo Admin")
    else:
        users.set_password(engine, admin.id, password)

    httpx.post(f"{emu.base_url}/_emulator/traffic", json={"scenario": scenario, "messages": 40, "seed": seed})
    stop = threading.Event()
    worker = Worker(engine, settings, stop=stop)
    threading.Thread(target=worker.run, name="worker", daemon=True).start()

    def _traffic() -> None:
        n = 0
        while every > 0 and not stop.wait(every):
            n += 1
            try:
                httpx.post(
                    f"{emu.base_url}/_emulator/traffic",
                    json={"scenario": scenario, "messages": 1 + n % 3, "seed": seed + n},
                    timeout=10,
                )
            except httpx.HTTPError:
                log.warning("could not generate demo traffic", exc_info=True)

    threading.Thread(target=_traffic, name="demo-traffic", daemon=True).start()

    url = f"http://127.0.0.1:{port}/"
    typer.secho("\nFlockdesk demo is running", bold=True)
    typer.echo(f"  inbox:     {url}")
    typer.echo(f"  login:     admin / {password}")
    typer.echo(f"  emulator:  {emu.base_url} (scenario {scenario}, org @{account.username})")
    typer.echo(f"  real time: {'polling only' if no_realtime else 'activity stream on'}")
    typer.echo(f"  X Chat:    {'off' if no_xchat else 'on (the account has its keys; customers encrypt)'}")
    typer.echo(f"  store:     {settings.resolved_database_url()}")
    typer.echo("  stop:      Ctrl-C\n")
    if not no_browser:
        threading.Timer(1.5, lambda: webbrowser.open(url)).start()
    try:
        uvicorn.run(
            create_app(settings, engine),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            proxy_headers=False,
        )
    finally:
        stop.set()
        emu.stop()
        engine.dispose()


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)
