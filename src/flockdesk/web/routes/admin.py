"""Settings pages: users (admin), saved replies (manager+), SLA policies and audit log (admin)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from flockdesk.domain.errors import InvalidInput
from flockdesk.domain.vocabulary import CHANNELS, ROLES
from flockdesk.services.conversations import sla as sla_svc
from flockdesk.services.replies import saved as sr_svc
from flockdesk.services.team import audit_log
from flockdesk.services.team import sessions as auth_svc
from flockdesk.services.team import users as users_svc
from flockdesk.services.team.users import User
from flockdesk.web.flash import attempt, back, flash
from flockdesk.web.pages import render
from flockdesk.web.security import page_role, web

router = APIRouter()
admin_only = page_role("admin")
manager_up = page_role("manager")
AUDIT_PAGE = 100
AUDIT_SOURCES = {
    "all": "Everything",
    "audit": "Audit events only",
    "history": "Conversation changes only",
}


@router.get("/settings")
async def settings_home(user: User = Depends(manager_up)) -> Response:
    return RedirectResponse(
        "/settings/users" if user.has_role("admin") else "/settings/saved-replies", status_code=303
    )


@router.get("/settings/users")
async def users_page(request: Request, user: User = Depends(admin_only)) -> Response:
    people = await run_in_threadpool(users_svc.list_users, web(request).engine)
    return await render(
        request, user, "settings_users.html", people=people, roles=ROLES, tab="users", **flash(request)
    )


@router.post("/settings/users")
async def users_add(
    request: Request,
    username: str = Form(""),
    name: str = Form(""),
    role: str = Form("agent"),
    password: str = Form(""),
    user: User = Depends(admin_only),
) -> Response:
    engine = web(request).engine
    return await attempt(
        "/settings/users",
        lambda: users_svc.create_user(engine, username, password, role, name=name, actor_id=user.id),
        f"User {username.strip()} added.",
    )


@router.post("/settings/users/{uid}/active")
async def users_active(
    uid: int, request: Request, active: str = Form("no"), user: User = Depends(admin_only)
) -> Response:
    if uid == user.id and active != "yes":
        return back("/settings/users", error="You cannot disable your own account; ask another admin.")
    engine = web(request).engine
    return await attempt(
        "/settings/users",
        lambda: users_svc.set_active(engine, uid, active == "yes", actor_id=user.id),
        "User updated." if active == "yes" else "User disabled; their sessions and API tokens were revoked.",
    )


@router.post("/settings/users/{uid}/role")
async def users_role(
    uid: int, request: Request, role: str = Form(""), user: User = Depends(admin_only)
) -> Response:
    if uid == user.id:
        return back("/settings/users", error="You cannot change your own role; ask another admin.")
    engine = web(request).engine
    return await attempt(
        "/settings/users",
        lambda: users_svc.set_role(engine, uid, role, actor_id=user.id),
        lambda u: f"{u.username} is now {u.role}.",
    )


@router.post("/settings/users/{uid}/password")
async def users_password(
    uid: int, request: Request, password: str = Form(""), user: User = Depends(admin_only)
) -> Response:
    """An admin resets someone's password (their sessions and API tokens are revoked; audited)."""
    engine = web(request).engine
    return await attempt(
        "/settings/users",
        lambda: auth_svc.reset_password(engine, uid, password, actor_id=user.id),
        lambda u: (
            f"Password of {u.username} reset. Tell them the new one in person; they were signed out "
            "and their API tokens revoked."
        ),
    )


@router.get("/settings/saved-replies")
async def saved_replies_page(request: Request, user: User = Depends(manager_up)) -> Response:
    items = await run_in_threadpool(sr_svc.list_saved_replies, web(request).engine)
    return await render(
        request,
        user,
        "settings_saved_replies.html",
        items=items,
        variables=sr_svc.VARIABLES,
        tab="saved",
        **flash(request),
    )


@router.post("/settings/saved-replies")
async def saved_replies_add(
    request: Request, name: str = Form(""), body: str = Form(""), user: User = Depends(manager_up)
) -> Response:
    engine = web(request).engine
    return await attempt(
        "/settings/saved-replies", lambda: sr_svc.create(engine, user.id, name, body), "Saved reply added."
    )


@router.post("/settings/saved-replies/{sid}")
async def saved_replies_edit(
    sid: int, request: Request, name: str = Form(""), body: str = Form(""), user: User = Depends(manager_up)
) -> Response:
    engine = web(request).engine
    return await attempt(
        "/settings/saved-replies",
        lambda: sr_svc.update(engine, user.id, sid, name=name or None, body=body or None),
        "Saved reply updated.",
    )


@router.post("/settings/saved-replies/{sid}/delete")
async def saved_replies_delete(sid: int, request: Request, user: User = Depends(manager_up)) -> Response:
    engine = web(request).engine
    return await attempt(
        "/settings/saved-replies", lambda: sr_svc.delete(engine, user.id, sid), "Saved reply deleted."
    )


@router.get("/settings/sla")
async def sla_page(request: Request, user: User = Depends(admin_only)) -> Response:
    policies = await run_in_threadpool(sla_svc.get_policies, web(request).engine)
    rows = [(ch, policies.get(ch), sla_svc.DEFAULT_TARGETS.get(ch)) for ch in CHANNELS]
    return await render(request, user, "settings_sla.html", rows=rows, tab="sla", **flash(request))


@router.post("/settings/sla")
async def sla_save(
    request: Request, channel: str = Form(""), minutes: str = Form(""), user: User = Depends(admin_only)
) -> Response:
    engine = web(request).engine
    try:
        value = int(minutes)
    except ValueError:
        return back("/settings/sla", error="Enter the first-response target as a whole number of minutes.")
    return await attempt(
        "/settings/sla",
        lambda: sla_svc.set_policy(engine, user.id, channel, value),
        f"SLA for {channel} saved.",
    )


def _audit_filters(request: Request) -> dict[str, str]:
    """The audit page's filters as given in its query string (unknown keys ignored)."""
    q = request.query_params
    return {
        k: q.get(k, "").strip()
        for k in ("source", "actor", "action", "target_type", "target_id", "since", "until")
    }


def _day(value: str, what: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.combine(date.fromisoformat(value), time(), tzinfo=UTC)
    except ValueError:
        raise InvalidInput(f"give the {what} date as YYYY-MM-DD") from None


def _read_audit(engine: Engine, f: dict[str, str], after: str | None) -> audit_log.LogPage:
    source = f["source"] or "all"
    if source not in audit_log.LOG_SOURCES:
        raise InvalidInput(f"show must be one of {', '.join(audit_log.LOG_SOURCES)}")
    if f["actor"] and not f["actor"].isdigit():
        raise InvalidInput("pick the person from the list")
    until = _day(f["until"], "to")
    return audit_log.read(
        engine,
        source=source,
        actor_user_id=int(f["actor"]) if f["actor"] else None,
        action=f["action"] or None,
        target_type=f["target_type"] or None,
        target_id=f["target_id"] or None,
        since=_day(f["since"], "from"),
        until=until + timedelta(days=1) if until else None,  # "to" a day includes that day
        limit=AUDIT_PAGE,
        after=after,
    )


@router.get("/settings/audit")
async def audit_page(request: Request, user: User = Depends(admin_only)) -> Response:
    """The audit log merged with every conversation's state changes, filtered, AUDIT_PAGE rows a page."""
    engine = web(request).engine
    f = _audit_filters(request)
    error = ""
    try:
        page = await run_in_threadpool(_read_audit, engine, f, request.query_params.get("after") or None)
    except InvalidInput as exc:
        page, error = audit_log.LogPage([], None), str(exc)
    people = await run_in_threadpool(users_svc.list_users, engine)
    kept = {k: v for k, v in f.items() if v}
    more = f"/settings/audit?{urlencode({**kept, 'after': page.next_cursor})}" if page.next_cursor else None
    return await render(
        request,
        user,
        "settings_audit.html",
        entries=page.entries,
        more_url=more,
        filters=f,
        filtered=bool(kept),
        sources=AUDIT_SOURCES,
        people=people,
        tab="audit",
        error=error,
        status_code=400 if error else 200,
    )
