"""One conversation: the thread, contact panel, actions, composer fallback, presence and status poll."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from flockdesk.domain import text as text_mod
from flockdesk.domain.errors import InvalidInput
from flockdesk.services.conversations import actions as conv_svc
from flockdesk.services.conversations import attachments as attachments_svc
from flockdesk.services.conversations import history as history_svc
from flockdesk.services.replies import compose as replies_svc
from flockdesk.services.replies import moderation, native
from flockdesk.services.replies import saved as sr_svc
from flockdesk.services.team import note_mentions as mentions_svc
from flockdesk.services.team import presence as presence_svc
from flockdesk.services.team import users as users_svc
from flockdesk.services.team.users import User
from flockdesk.web.flash import attempt, back
from flockdesk.web.pages import render
from flockdesk.web.security import page_user, web

router = APIRouter()


async def _act(cid: int, fn: Callable[[], Any], notice: str) -> RedirectResponse:
    """Run a service action; user-fixable errors come back as a message on the page."""
    return await attempt(f"/c/{cid}", fn, notice)


def _needs_move_to_dm(view: Any) -> bool:
    conv = view.conversation
    if conv.kind != "public" or conv.linked_conversation_id:
        return False
    return any(
        t.type == "message" and t.direction == "in" and (t.sensitive or t.move_to_dm) for t in view.thread
    )


def _sensitive_kinds(view: Any) -> list[str]:
    kinds: set[str] = set()
    for t in view.thread:
        if t.type == "message" and t.direction == "in" and t.sensitive:
            kinds.update(t.sensitive if isinstance(t.sensitive, list) else [str(t.sensitive)])
    return sorted(kinds)


def _hide_offer(view: Any, candidates: list[Any]) -> Any:
    """The newest inbound public reply holding personal data (hidden or not), if any, unless X is
    known to refuse (a thread someone else started): the banner offers to hide it (or to unhide it)."""
    if view.conversation.kind != "public":
        return None
    return next((h for h in candidates if h.sensitive and h.thread_owner != "other"), None)


@router.get("/c/{cid}")
async def conversation_page(cid: int, request: Request, user: User = Depends(page_user)) -> Response:
    engine = web(request).engine
    view = await run_in_threadpool(conv_svc.get_conversation, engine, cid)

    await run_in_threadpool(mentions_svc.mark_conversation_read, engine, user.id, cid)

    attachments = await run_in_threadpool(attachments_svc.for_conversation, engine, cid)
    candidates = await run_in_threadpool(moderation.hide_candidates, engine, cid)
    saved = await run_in_threadpool(sr_svc.list_saved_replies, engine)
    people = await run_in_threadpool(users_svc.list_users, engine, active_only=True)
    limit = 10_000 if view.conversation.kind == "dm" else 280
    decision = await run_in_threadpool(native.composer_decision, engine, cid)
    activity = await run_in_threadpool(history_svc.activity, engine, cid)
    return await render(
        request,
        user,
        "conversation.html",
        v=view,
        c=view.conversation,
        saved_replies=saved,
        people=people,
        limit=limit,
        move_banner=_needs_move_to_dm(view),
        sensitive_kinds=_sensitive_kinds(view),
        hide_offer=_hide_offer(view, candidates),
        attachments=attachments,
        policy=decision,
        activity=activity,
        ai_enabled=bool(web(request).settings.ai_url),
        notice=request.query_params.get("notice", ""),
        error=request.query_params.get("error", ""),
    )


@router.post("/c/{cid}/assign")
async def assign(
    cid: int, request: Request, assignee: str = Form(""), user: User = Depends(page_user)
) -> Response:
    engine = web(request).engine
    if assignee == "me":
        return await _act(cid, lambda: conv_svc.self_assign(engine, cid, user.id), "Assigned to you.")
    if assignee in ("", "none"):
        return await _act(cid, lambda: conv_svc.unassign(engine, cid, user.id), "Unassigned.")
    try:
        target = int(assignee)
    except ValueError:
        return back(f"/c/{cid}", error="Pick a teammate from the list.")
    return await _act(cid, lambda: conv_svc.assign(engine, cid, user.id, target), "Assigned.")


@router.post("/c/{cid}/tag")
async def tag(cid: int, request: Request, name: str = Form(""), user: User = Depends(page_user)) -> Response:
    engine = web(request).engine
    return await _act(cid, lambda: conv_svc.add_tag(engine, cid, user.id, name), "Tag added.")


@router.post("/c/{cid}/untag")
async def untag(
    cid: int, request: Request, name: str = Form(""), user: User = Depends(page_user)
) -> Response:
    engine = web(request).engine
    return await _act(cid, lambda: conv_svc.remove_tag(engine, cid, user.id, name), "Tag removed.")


@router.post("/c/{cid}/note")
async def note(cid: int, request: Request, text: str = Form(""), user: User = Depends(page_user)) -> Response:
    engine = web(request).engine
    return await _act(cid, lambda: conv_svc.add_note(engine, cid, user.id, text), "Note added.")


def parse_until(value: str) -> datetime:
    """A datetime-local value (taken as UTC) or ISO 8601 string; InvalidInput says the expected form."""
    try:
        dt = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput("Give the snooze time as a date and time, e.g. 2026-01-31T09:00.") from None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


@router.post("/c/{cid}/snooze")
async def snooze(
    cid: int, request: Request, until: str = Form(""), user: User = Depends(page_user)
) -> Response:
    engine = web(request).engine
    try:
        when = parse_until(until)
    except ValueError as exc:
        return back(f"/c/{cid}", error=str(exc))
    return await _act(cid, lambda: conv_svc.snooze(engine, cid, user.id, when), "Snoozed.")


@router.post("/c/{cid}/resolve")
async def resolve(cid: int, request: Request, user: User = Depends(page_user)) -> Response:
    engine = web(request).engine
    return await _act(cid, lambda: conv_svc.resolve(engine, cid, user.id), "Resolved.")


@router.post("/c/{cid}/reopen")
async def reopen(cid: int, request: Request, user: User = Depends(page_user)) -> Response:
    engine = web(request).engine
    return await _act(cid, lambda: conv_svc.reopen(engine, cid, user.id), "Reopened.")


@router.post("/c/{cid}/follow-up")
async def follow_up(cid: int, request: Request, user: User = Depends(page_user)) -> Response:
    engine = web(request).engine
    return await _act(
        cid,
        lambda: conv_svc.follow_up(engine, cid, user.id, hours=24),
        "Snoozed; it comes back to Mine in 24 hours.",
    )


@router.post("/c/{cid}/move-to-dm")
async def move_to_dm(
    cid: int,
    request: Request,
    ack_text: str = Form(""),
    dm_text: str = Form(""),
    user: User = Depends(page_user),
) -> Response:
    engine = web(request).engine
    result: dict[str, Any] = {}

    def run() -> None:
        result["r"] = replies_svc.move_to_dm(engine, cid, user.id, ack_text or None, dm_text or None)

    resp = await _act(cid, run, "Moved to DM: a public acknowledgement with the DM link is queued.")
    if "r" in result and result["r"].ack.kind == "native_reply":
        return back(
            f"/c/{cid}",
            notice="X does not let apps reply to this post: open the acknowledgement on X below, post it, "
            "then click I sent it. The DM thread is ready for when the customer writes.",
        )
    if "r" in result:
        return RedirectResponse(
            f"/c/{result['r'].dm_conversation_id}?notice="
            + "Moved+to+DM%3A+the+public+acknowledgement+is+queued.",
            status_code=303,
        )
    return resp


@router.post("/c/{cid}/hide-reply")
async def hide_reply(
    cid: int,
    request: Request,
    message_id: str = Form(""),
    hidden: str = Form("yes"),
    user: User = Depends(page_user),
) -> Response:
    """Hide (or unhide) a customer's public reply on X; the page shows the result or X's reason."""
    ctx = web(request)
    try:
        mid = int(message_id) if message_id else None
    except ValueError:
        return back(f"/c/{cid}", error="Pick the reply to hide from the banner and try again.")
    offered = await run_in_threadpool(moderation.hide_candidates, ctx.engine, cid)
    if mid is not None and mid not in {h.message_id for h in offered}:
        return back(
            f"/c/{cid}", error="That reply is not in this conversation; reload the page and try again."
        )

    def run() -> Any:
        return moderation.hide_reply(
            ctx.engine,
            ctx.settings,
            user_id=user.id,
            message_id=mid,
            conversation_id=cid,
            hidden=hidden != "no",
        )

    def result(r: Any) -> str:
        if r.hidden:
            return 'The reply is hidden on X (still reachable there via "View hidden replies").'
        return "The reply is visible on X again."

    return await attempt(f"/c/{cid}", run, result)


@router.post("/c/{cid}/reply")
async def reply(
    cid: int,
    request: Request,
    text: str = Form(""),
    override_guard: str = Form(""),
    idempotency_key: str = Form(""),
    ai_drafted: str = Form(""),
    user: User = Depends(page_user),
) -> Response:
    """Form fallback of the composer (the page's script uses the REST API)."""
    engine = web(request).engine
    return await _act(
        cid,
        lambda: replies_svc.queue_reply(
            engine,
            cid,
            user.id,
            text,
            override_guard=override_guard == "yes",
            idempotency_key=idempotency_key or None,
            ai_drafted=ai_drafted == "yes",
        ),
        "Reply queued.",
    )


@router.post("/c/{cid}/reply-on-x")
async def reply_on_x(
    cid: int,
    request: Request,
    text: str = Form(""),
    override_guard: str = Form(""),
    idempotency_key: str = Form(""),
    user: User = Depends(page_user),
) -> Response:
    """Keep the reply a person posts on the platform (the policy keeps it from the API); the page then
    shows the link that opens the platform's composer with it."""
    engine = web(request).engine
    return await _act(
        cid,
        lambda: native.draft_native_reply(
            engine,
            cid,
            user.id,
            text,
            override_guard=override_guard == "yes",
            idempotency_key=idempotency_key or None,
        ),
        "Reply kept: open it on X below, post it there, then click I sent it.",
    )


@router.post("/c/{cid}/native-sent/{outbox_id}")
async def native_sent(
    cid: int, outbox_id: int, request: Request, user: User = Depends(page_user)
) -> Response:
    engine = web(request).engine
    return await _act(
        cid,
        lambda: native.confirm_native(engine, outbox_id, user.id),
        "Thanks: Flockdesk attaches your reply here when it shows up among the account's posts.",
    )


@router.post("/c/{cid}/retry/{outbox_id}")
async def retry(cid: int, outbox_id: int, request: Request, user: User = Depends(page_user)) -> Response:
    engine = web(request).engine
    return await _act(cid, lambda: replies_svc.retry(engine, outbox_id, user.id), "Queued again.")


@router.get("/c/{cid}/saved-reply/{sid}")
async def saved_reply_preview(
    cid: int, sid: int, request: Request, user: User = Depends(page_user)
) -> Response:
    engine = web(request).engine
    saved = await run_in_threadpool(sr_svc.get_saved_reply, engine, sid)
    body = await run_in_threadpool(sr_svc.render_for, engine, saved.body, cid, user.id)
    view = await run_in_threadpool(conv_svc.get_conversation, engine, cid)
    kind = "dm" if view.conversation.kind == "dm" else "reply"
    return JSONResponse({"text": body, "length": text_mod.length_info(body, kind)})


def _outbox_state(view: Any) -> list[dict[str, Any]]:
    return [
        {"id": t.outbox_id, "status": t.status, "error": t.error}
        for t in view.thread
        if t.outbox_id is not None and t.status
    ]


@router.post("/c/{cid}/presence")
async def presence(cid: int, request: Request, user: User = Depends(page_user)) -> Response:
    """Heartbeat: records that the user views (or types in) this conversation; returns who else is
    here and the status of its outbox rows."""
    body: dict[str, Any] = {}
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            raw = await request.json()
        except (ClientDisconnect, ValueError):
            return JSONResponse({"others": []})
        body = raw if isinstance(raw, dict) else {}
    typing = bool(body.get("typing"))
    engine = web(request).engine
    if body.get("leave"):
        await run_in_threadpool(presence_svc.leave, engine, cid, user.id)
        return JSONResponse({"others": []})
    await run_in_threadpool(presence_svc.touch, engine, cid, user.id, user.username, typing=typing)
    others = await run_in_threadpool(presence_svc.others, engine, cid, user.id)
    view = await run_in_threadpool(conv_svc.get_conversation, engine, cid)
    return JSONResponse(
        {
            "others": [{"username": p.username, "typing": p.typing} for p in others],
            "outbox": _outbox_state(view),
            "status": view.conversation.status,
            "thread_len": len(view.thread),
        }
    )
