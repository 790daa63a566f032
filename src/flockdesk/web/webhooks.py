"""`GET/POST /webhooks/x`: X's webhook delivery of real-time events, for an install reachable from the
internet. Mounted as its own small app: X authenticates by signature, not by session, so the site's
CSRF check does not apply; the body size cap (BodySizeLimitMiddleware) still does.

GET answers the CRC challenge; POST checks the signature, refuses replays and queues the event for
the worker (services/realtime/webhooks.py)."""

from __future__ import annotations

from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from flockdesk.services.realtime import webhooks
from flockdesk.settings import Settings


def create_webhook_app(settings: Settings, engine: Engine) -> Starlette:
    async def x_webhook(request: Request) -> Response:
        if request.method == "GET":
            answer = webhooks.crc(settings, "x", request.query_params.get("crc_token"))
        else:
            body = await request.body()
            headers = {k.lower(): v for k, v in request.headers.items()}
            answer = await run_in_threadpool(webhooks.accept, engine, settings, "x", body, headers)
        return JSONResponse(answer.body, status_code=answer.status)

    return Starlette(routes=[Route("/x", x_webhook, methods=["GET", "POST"])])
