"""`flockdesk emulator`: run the local X API v2 emulator in the foreground."""

from __future__ import annotations

import json
from typing import Annotated

import typer
import uvicorn

from flockdesk.cli.common import fail
from flockdesk.emulator import EmulatorConfig, EmulatorState, create_app
from flockdesk.emulator.scenario import ScenarioError, available, load_scenario
from flockdesk.emulator.traffic import generate


def register(app: typer.Typer) -> None:
    app.command("emulator")(emulator)


def emulator(
    port: Annotated[int, typer.Option("--port", help="Port on 127.0.0.1 to listen on.")] = 8765,
    seed: Annotated[int, typer.Option("--seed", help="Seed for generated traffic and faults.")] = 0,
    speedup: Annotated[
        float, typer.Option("--speedup", help="Divides the 15-minute rate-limit window.")
    ] = 1.0,
    scenario: Annotated[
        str, typer.Option("--scenario", help="Scenario whose organisation the token acts for.")
    ] = ("airline"),
    token: Annotated[
        str | None, typer.Option("--token", help="User token to accept (default: a random one).")
    ] = None,
    traffic: Annotated[int, typer.Option("--traffic", help="Generate this many messages at start.")] = 0,
    reply_restriction: Annotated[
        bool, typer.Option("--reply-restriction/--no-reply-restriction", help="Enforce X's 2026 reply rule.")
    ] = True,
    host: Annotated[
        str, typer.Option("--host", help="Interface to bind (keep it on loopback).")
    ] = "127.0.0.1",
) -> None:
    """Run the X API v2 emulator and print the token it accepts and the command to connect to it."""
    if speedup <= 0:
        raise fail("--speedup must be a positive number, e.g. 900 to make a 15-minute window last one second")
    try:
        sc = load_scenario(scenario)
    except ScenarioError:
        raise fail(f"unknown scenario {scenario!r}; choose from: {', '.join(available())}") from None
    config = EmulatorConfig(
        scenario=scenario, seed=seed, speedup=speedup, token=token, reply_restriction=reply_restriction
    )
    state = EmulatorState(config)
    if traffic:
        generate(state, sc, traffic, seed)
    base = f"http://{host}:{port}"
    typer.echo(f"X API v2 emulator for @{state.org.username} (id {state.org.id}) on {base}")
    typer.echo(f"user token (OAuth 2.0 user context): {state.token}")
    typer.echo(f"app bearer token:                    {state.app_bearer}")
    typer.echo("connect Flockdesk to it with:")
    typer.echo(
        f"  FLOCKDESK_ALLOWED_API_HOSTS={host} flockdesk accounts add x --base-url {base} --token {state.token}"
    )
    typer.echo(f"  (and FLOCKDESK_ALLOWED_API_HOSTS={host} for the worker and the web app)")
    body = json.dumps({"scenario": scenario, "messages": 50})
    typer.echo(f"generate traffic: curl -X POST {base}/_emulator/traffic -d '{body}'")
    app = create_app(state)
    client = state.oauth.default_client
    typer.echo(f"OAuth 2.0 PKCE client: client_id={client.client_id} client_secret={client.client_secret}")
    try:
        uvicorn.run(
            app, host=host, port=port, log_level="warning", access_log=False, timeout_graceful_shutdown=1
        )
    except OSError as exc:
        raise fail(f"cannot listen on {host}:{port} ({exc}); choose another --port") from None
