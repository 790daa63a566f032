"""Team @mentions: notes that mention me, the unread count (nav badge, live bump), mark read."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from flockdesk.services.team import note_mentions as mentions_svc
from flockdesk.services.team.users import User
from flockdesk.web.flash import back, flash
from flockdesk.web.pages import render
from flockdesk.web.security import page_user, web

router = APIRouter()


@router.get("/mentions")
async def mentions_page(request: Request, user: User = Depends(page_user)) -> Response:
    items = await run_in_threadpool(mentions_svc.list_for_user, web(request).engine, user.id)
    return await render(request, user, "mentions.html", items=items, **flash(request))


@router.get("/mentions/count")
async def mentions_count(request: Request, user: User = Depends(page_user)) -> Response:
    n = await run_in_threadpool(mentions_svc.unread_count, web(request).engine, user.id)
    return JSONResponse({"unread": n}, headers={"Cache-Control": "no-store"})


@router.post("/mentions/read")
async def mentions_read(
    request: Request, note_id: str = Form(""), user: User = Depends(page_user)
) -> Response:
    """Mark one mention read (field note_id), or all of them (no note_id)."""
    nid = int(note_id) if note_id.strip().isdigit() else None
    if note_id.strip() and nid is None:
        return back("/mentions", error="That mention id is not a number; use the buttons on this page.")
    n = await run_in_threadpool(mentions_svc.mark_read, web(request).engine, user.id, nid)
    return back("/mentions", notice=f"Marked {n} mention{'s' if n != 1 else ''} read.")
