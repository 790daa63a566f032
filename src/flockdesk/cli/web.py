"""`flockdesk web`: serve the team inbox and REST API with uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from flockdesk.cli.common import DataDirOpt, settings_from
from flockdesk.store.db import make_engine, upgrade
from flockdesk.web.app import create_app


def register(app: typer.Typer) -> None:
    @app.command("web")
    def web(
        port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
        host: Annotated[
            str, typer.Option("--host", help="Interface to bind (0.0.0.0 for all).")
        ] = "127.0.0.1",
        data_dir: DataDirOpt = None,
    ) -> None:
        """Serve the web inbox (migrates the store first)."""
        settings = settings_from(data_dir)
        engine = make_engine(settings)
        upgrade(engine)
        typer.echo(f"Flockdesk on http://{host}:{port}/  (add a user: flockdesk users add NAME --role admin)")
        # The app reads X-Forwarded-For itself, from the proxies in the trusted_proxies setting only;
        # uvicorn's own handling would believe any header sent from 127.0.0.1.
        uvicorn.run(
            create_app(settings, engine),
            host=host,
            port=port,
            log_level=settings.log_level.lower(),
            proxy_headers=False,
        )
