"""Sign in and sign out."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from flockdesk.services.team import sessions as auth_svc
from flockdesk.web.security import (
    PRELOGIN_COOKIE,
    SESSION_COOKIE,
    cookie_secure,
    current_session,
    new_prelogin_token,
    remote_addr,
    web,
)

router = APIRouter()


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _login_page(request: Request, error: str = "", status: int = 200, username: str = "") -> Response:
    token = request.cookies.get(PRELOGIN_COOKIE) or new_prelogin_token()
    resp = web(request).templates.TemplateResponse(
        request,
        "login.html",
        {
            "csrf_token": token,
            "error": error,
            "next": _safe_next(request.query_params.get("next")),
            "username": username,
        },
        status_code=status,
    )
    resp.set_cookie(
        PRELOGIN_COOKIE, token, httponly=True, samesite="lax", secure=cookie_secure(request), path="/"
    )
    return resp


@router.get("/login")
async def login_form(request: Request) -> Response:
    if await current_session(request) is not None:
        return RedirectResponse("/", status_code=303)
    return _login_page(request)


@router.post("/login")
async def login_submit(
    request: Request, username: str = Form(""), password: str = Form(""), next: str = Form("/")
) -> Response:
    ctx = web(request)
    try:
        user = await run_in_threadpool(auth_svc.login, ctx.engine, username, password, remote_addr(request))
    except auth_svc.LoginThrottled as exc:
        resp = _login_page(request, str(exc), 429, username)
        resp.headers["Retry-After"] = str(exc.retry_after_s)
        return resp
    except auth_svc.LoginFailed as exc:
        return _login_page(request, str(exc), 401, username)
    cookie, _sess = await run_in_threadpool(auth_svc.create_session, ctx.engine, user.id)
    resp = RedirectResponse(_safe_next(next), status_code=303)
    resp.set_cookie(
        SESSION_COOKIE,
        cookie,
        httponly=True,
        samesite="lax",
        secure=cookie_secure(request),
        path="/",
        max_age=int(auth_svc.SESSION_TTL.total_seconds()),
    )
    resp.delete_cookie(PRELOGIN_COOKIE, path="/")
    return resp


@router.post("/logout", dependencies=[Depends(current_session)])
async def logout(request: Request) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE, "")
    if cookie:
        await run_in_threadpool(auth_svc.logout, web(request).engine, cookie)
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp
