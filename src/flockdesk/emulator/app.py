"""The emulator's ASGI app: X API v2 routes, OAuth 2.0 PKCE routes and the /_emulator/ control API."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from flockdesk.emulator import api, control, oauth
from flockdesk.emulator.http import problem
from flockdesk.emulator.state import EmulatorConfig, EmulatorState


async def _not_found(request: Request, exc: Exception) -> Response:
    return problem(
        404, "Not Found Error", f"No route for {request.method} {request.url.path}", "resource-not-found"
    )


async def _method_not_allowed(request: Request, exc: Exception) -> Response:
    return problem(405, "Method Not Allowed", f"{request.method} is not allowed on {request.url.path}")


def create_app(state_or_config: EmulatorState | EmulatorConfig | None = None) -> Starlette:
    """Build the emulator app around a state (or a fresh state from a config)."""
    if isinstance(state_or_config, EmulatorState):
        state = state_or_config
    else:
        state = EmulatorState(state_or_config or EmulatorConfig())
    app = Starlette(
        routes=[*api.routes(), *oauth.routes(), *control.routes()],
        exception_handlers={404: _not_found, 405: _method_not_allowed},
    )
    app.state.emulator = state
    return app
