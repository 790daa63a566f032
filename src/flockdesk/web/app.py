"""The web app factory: browser pages, the REST API under /api/v1, static assets. Nothing at import."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from flockdesk.domain.errors import UserError
from flockdesk.settings import Settings
from flockdesk.store.db import check_store, make_engine
from flockdesk.web import errors
from flockdesk.web.api.app import create_api
from flockdesk.web.live import LiveHub
from flockdesk.web.middleware import BodySizeLimitMiddleware, UnhandledErrorMiddleware
from flockdesk.web.render import make_templates
from flockdesk.web.routes import admin, admin_accounts, auth, conversation, events, inbox, mentions, profile
from flockdesk.web.security import (
    CsrfError,
    Forbidden,
    LoginRequired,
    SecurityHeadersMiddleware,
    WebContext,
    csrf_protect,
)
from flockdesk.web.webhooks import create_webhook_app

STATIC_DIR = Path(__file__).parent / "static"
HEALTH_TIMEOUT_S = 2.0
log = logging.getLogger(__name__)
HTTP_MESSAGES = {
    404: "There is no page at this address. Check the link, or go back to the inbox.",
    405: "This address does not take that kind of request. Go back and use the page's own buttons.",
}


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "") or request.url.path.endswith(".json")


def _error_page(request: Request, status: int, message: str) -> Response:
    if _wants_json(request):
        return JSONResponse({"detail": message}, status_code=status)
    ctx: WebContext = request.app.state.web
    resp: Response = ctx.templates.TemplateResponse(
        request, "error.html", {"status": status, "message": message}, status_code=status
    )
    return resp


def _server_error_page(request: Request) -> Response:
    return _error_page(request, 500, errors.GENERIC_MESSAGE)


def create_app(settings: Settings, engine: Engine | None = None) -> FastAPI:
    """Build the app on a store (migrated by the caller or `flockdesk db upgrade`). Periodic work
    (snooze wake-ups, spike checks, alert retries) is the worker's (jobs/registry.py), never the web's."""
    eng = engine if engine is not None else make_engine(settings)
    ctx = WebContext(settings=settings, engine=eng, templates=make_templates())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            _app.state.live.closed = True

    app = FastAPI(
        lifespan=lifespan,
        title="Flockdesk",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(csrf_protect)],
    )
    app.state.web = ctx
    app.state.live = LiveHub(eng)
    # Added inside out: the headers middleware wraps the 500 page and the 413, the body cap runs
    # before anything reads the body.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_request_body_bytes)
    app.add_middleware(UnhandledErrorMiddleware, render=_server_error_page)
    app.add_middleware(SecurityHeadersMiddleware)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if "text/html" in request.headers.get("accept", "") and not _wants_json(request):
            message = HTTP_MESSAGES.get(exc.status_code, str(exc.detail))
            resp = _error_page(request, exc.status_code, message)
            resp.headers.update(exc.headers or {})
            return resp
        return await http_exception_handler(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _bad_request(request: Request, exc: RequestValidationError) -> Response:
        # A page address with a malformed id (/c/abc) is an address that does not exist; a bad form or
        # query value is the user's to fix. Pages get the error page, JSON callers FastAPI's details.
        if _wants_json(request) or "text/html" not in request.headers.get("accept", ""):
            return await request_validation_exception_handler(request, exc)
        if any(err.get("loc", ("",))[0] == "path" for err in exc.errors()):
            return _error_page(request, 404, HTTP_MESSAGES[404])
        fields = sorted({str(err.get("loc", ("", "?"))[-1]) for err in exc.errors()})
        return _error_page(
            request,
            400,
            f"This request has a value the page cannot use ({', '.join(fields)}). "
            "Go back, check what you entered and try again.",
        )

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if _wants_json(request) or request.method != "GET":
            return JSONResponse({"detail": "Sign in first."}, status_code=401)
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        return _error_page(request, 403, str(exc))

    @app.exception_handler(CsrfError)
    async def _csrf(request: Request, exc: CsrfError) -> Response:
        return _error_page(request, 403, str(exc))

    @app.exception_handler(UserError)
    async def _user_error(request: Request, exc: UserError) -> Response:
        return _error_page(request, exc.status, errors.message_for(exc))

    for module in (auth, inbox, conversation, events, admin, admin_accounts, profile, mentions):
        app.include_router(module.router)
    api = create_api(ctx)
    app.mount("/api/v1", api)
    app.mount("/webhooks", create_webhook_app(settings, eng))
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return RedirectResponse("/static/favicon.svg", status_code=301)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> Response:
        """200 when the store answers a query within HEALTH_TIMEOUT_S, else 503 with the reason."""
        try:
            problem = await asyncio.wait_for(
                run_in_threadpool(check_store, eng, timeout_s=HEALTH_TIMEOUT_S), HEALTH_TIMEOUT_S + 1
            )
        except TimeoutError:
            problem = "database did not answer in time"
        if problem is not None:
            return JSONResponse({"status": "unavailable", "reason": problem}, status_code=503)
        return JSONResponse({"status": "ok"})

    return app
