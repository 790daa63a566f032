"""Server-sent events: change markers that tell open pages to fetch what is new."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from flockdesk.services.team.users import User
from flockdesk.web.security import page_user

router = APIRouter()
STREAM_SECONDS = 55.0  # the browser reconnects by itself; bounded streams let the server shut down


@router.get("/events")
async def events(request: Request, user: User = Depends(page_user)) -> StreamingResponse:
    hub = request.app.state.live
    interval = float(request.query_params.get("interval", "1.0") or 1.0)
    interval = min(max(interval, 0.3), 10.0)
    once = request.query_params.get("once") == "1"  # one snapshot, then end (scripts and tests)

    async def stream() -> AsyncIterator[str]:
        yield "retry: 1500\n\n"
        last: dict[str, int] | None = None
        started = time.monotonic()
        while not hub.closed and time.monotonic() - started < STREAM_SECONDS:
            if await request.is_disconnected():
                return
            snap = await run_in_threadpool(hub.snapshot)
            if snap != last:
                yield f"event: change\ndata: {json.dumps(snap)}\n\n"
                last = snap
            if once:
                return
            else:
                yield ": keep-alive\n\n"
            await asyncio.sleep(interval)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
