"""The signed-in user's profile: personal API tokens, alert acknowledgement."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from flockdesk.services.monitoring import alerts as alerts_svc
from flockdesk.services.team import users as users_svc
from flockdesk.services.team.users import User
from flockdesk.web.pages import render
from flockdesk.web.security import page_user, web

router = APIRouter()


@router.get("/profile")
async def profile(request: Request, user: User = Depends(page_user)) -> Response:
    tokens = await run_in_threadpool(users_svc.list_api_tokens, web(request).engine, user.id)
    return await render(request, user, "profile.html", tokens=tokens, new_token=None)


@router.post("/profile/tokens")
async def create_token(request: Request, label: str = Form(""), user: User = Depends(page_user)) -> Response:
    engine = web(request).engine
    token = await run_in_threadpool(users_svc.create_api_token, engine, user.id, label or "API token")
    tokens = await run_in_threadpool(users_svc.list_api_tokens, engine, user.id)
    return await render(request, user, "profile.html", tokens=tokens, new_token=token)


@router.post("/profile/tokens/{token_id}/revoke")
async def revoke_token(token_id: int, request: Request, user: User = Depends(page_user)) -> Response:
    await run_in_threadpool(users_svc.revoke_api_token, web(request).engine, user.id, token_id)
    return RedirectResponse("/profile", status_code=303)


@router.post("/alerts/{alert_id}/ack")
async def ack_alert(alert_id: int, request: Request, user: User = Depends(page_user)) -> Response:
    await run_in_threadpool(alerts_svc.acknowledge, web(request).engine, alert_id, user.id)
    back = request.headers.get("referer", "/")
    return RedirectResponse(back if back.startswith(str(request.base_url)) else "/", status_code=303)
