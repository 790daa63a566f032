"""The REST API app (mounted at /api/v1): bearer API tokens or the browser session (+ CSRF header)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from flockdesk.domain import languages
from flockdesk.domain import text as text_mod
from flockdesk.domain.errors import InvalidInput, NotFound, PolicyRefused, UserError
from flockdesk.domain.vocabulary import TEXT_KINDS
from flockdesk.services.accounts import org_contacts as org_contacts_svc
from flockdesk.services.conversations import actions as conv_svc
from flockdesk.services.conversations import inbox as inbox_svc
from flockdesk.services.replies import assist
from flockdesk.services.replies import compose as replies_svc
from flockdesk.services.replies import native as native_svc
from flockdesk.services.replies import rows as outbox_rows
from flockdesk.services.replies.rows import OutboxRow
from flockdesk.services.team import audit as audit_svc
from flockdesk.services.team import users as users_svc
from flockdesk.services.team.users import User
from flockdesk.triage import check_reply
from flockdesk.web import errors
from flockdesk.web.api import models as m
from flockdesk.web.middleware import UnhandledErrorMiddleware
from flockdesk.web.security import (
    ApiAuthError,
    CsrfError,
    WebContext,
    api_csrf_protect,
    api_role,
    api_user,
    web,
)

VIEWS_DOC = "all | mine | unassigned | mentions | dms | listening | snoozed | resolved | leads | influencers"


def check_reply_info(text: str, kind: str, org_contacts: Sequence[str] = ()) -> m.CheckReplyOut:
    """The reply guard (triage) plus the authoritative weighted length; `org_contacts`: the account's
    own contact details, which a public reply may give."""
    length = text_mod.length_info(text, kind if kind in TEXT_KINDS else "reply")
    asks, contains, advice = False, [], ""
    if kind != "dm":
        res = check_reply(text, org_contacts)
        asks = res.asks_for_sensitive
        contains = list(res.contains_sensitive)
        advice = res.advice
    return m.CheckReplyOut(
        flagged=asks or bool(contains),
        asks_for_sensitive=asks,
        contains_sensitive=contains,
        advice=advice,
        weighted_length=length["weighted_length"],
        limit=length["limit"],
        valid=length["valid"],
    )


def native_reply_out(engine: Any, row: OutboxRow, link: str | None = None) -> m.NativeReplyOut:
    link = link or native_svc.intent_link(engine, row)
    if link is None:  # only native_reply rows with a target are looked up
        raise NotFound(f"outbox row {row.id} is not a reply posted on the platform")
    return m.NativeReplyOut(
        outbox=m.OutboxOut.model_validate(row), intent_link=link, confirmed=row.claimed_at is not None
    )


def native_row(engine: Any, cid: int, outbox_id: int) -> OutboxRow:
    """The conversation's native reply row; another conversation's row is not found here."""
    row = outbox_rows.get_outbox(engine, outbox_id)
    if row.conversation_id != cid or row.kind != "native_reply":
        raise NotFound(f"conversation {cid} has no reply {outbox_id} to post on the platform")
    return row


def create_api(ctx: WebContext) -> FastAPI:
    api = FastAPI(
        title="Flockdesk API",
        version="1",
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(api_csrf_protect)],
        description="Send `Authorization: Bearer <token>` (create one on your profile page).",
    )
    api.state.web = ctx
    api.add_middleware(
        UnhandledErrorMiddleware,
        render=lambda _request: JSONResponse(
            {"detail": "Internal server error; it was logged. Try again, or tell your admin."},
            status_code=500,
        ),
    )

    @api.exception_handler(ApiAuthError)
    async def _auth(request: Request, exc: ApiAuthError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse({"detail": str(exc)}, status_code=exc.status, headers=headers)

    @api.exception_handler(CsrfError)
    async def _csrf(request: Request, exc: CsrfError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=403)

    @api.exception_handler(UserError)
    async def _user_error(request: Request, exc: UserError) -> JSONResponse:
        body: dict[str, Any] = {"detail": errors.message_for(exc)}
        reason = getattr(exc, "reason", None)
        if reason:
            body["reason"] = reason
        if isinstance(exc, PolicyRefused):  # the platform's rules: what a person may do instead
            body["verdict"] = exc.verdict
            body["native_link"] = exc.native_link
        check = getattr(exc, "check", None)
        if check is not None:
            body["check"] = {
                "asks_for_sensitive": bool(getattr(check, "asks_for_sensitive", False)),
                "contains_sensitive": list(getattr(check, "contains_sensitive", []) or []),
                "advice": str(getattr(check, "advice", "") or ""),
            }
        return JSONResponse(body, status_code=exc.status)

    def engine(request: Request) -> Any:
        return web(request).engine

    @api.get("/conversations", response_model=m.ConversationPage, tags=["conversations"])
    async def list_conversations(
        request: Request,
        view: str = Query("all", description=VIEWS_DOC),
        sort: str = Query("priority", description="priority | waiting"),
        cursor: str | None = None,
        limit: int = Query(50, ge=1, le=200),
        account: int | None = None,
        channel: str | None = None,
        assignee: int | None = None,
        tag: str | None = None,
        intent: str | None = None,
        sentiment: str | None = None,
        sensitive: bool | None = None,
        urgent: bool | None = None,
        move_to_dm: bool | None = None,
        influencer: bool | None = None,
        lang: str | None = Query(None, description='ISO 639-1 language code, or "und"'),
        user: User = Depends(api_user),
    ) -> m.ConversationPage:
        if view not in inbox_svc.VIEWS:
            raise InvalidInput(f"Unknown view {view!r}; use one of: {VIEWS_DOC}.")
        filters = inbox_svc.InboxFilters(
            account_id=account,
            channel=channel,
            assignee_id=assignee,
            tag=tag,
            intent=intent,
            sentiment=sentiment,
            sensitive=sensitive,
            urgent=urgent,
            move_to_dm=move_to_dm,
            influencer=influencer,
            lang=languages.clean_code(lang),
        )
        page = await run_in_threadpool(
            lambda: inbox_svc.list_view(
                engine(request),
                view,
                user_id=user.id,
                filters=filters,
                sort="waiting" if sort == "waiting" else "priority",
                limit=limit,
                cursor=cursor,
            )
        )
        return m.ConversationPage(
            items=[m.InboxRowOut.model_validate(r) for r in page.rows], next_cursor=page.next_cursor
        )

    @api.get("/conversations/{cid}", response_model=m.ConversationDetail, tags=["conversations"])
    async def get_conversation(
        cid: int, request: Request, user: User = Depends(api_user)
    ) -> m.ConversationDetail:
        v = await run_in_threadpool(conv_svc.get_conversation, engine(request), cid)
        return m.ConversationDetail(
            conversation=m.ConversationOut.model_validate(v.conversation), tags=v.tags
        )

    @api.get("/conversations/{cid}/messages", response_model=list[m.ThreadItemOut], tags=["messages"])
    async def conversation_messages(
        cid: int, request: Request, user: User = Depends(api_user)
    ) -> list[m.ThreadItemOut]:
        v = await run_in_threadpool(conv_svc.get_conversation, engine(request), cid)
        return [m.ThreadItemOut.model_validate(t) for t in v.thread]

    @api.post("/conversations/{cid}/replies", response_model=m.OutboxOut, status_code=201, tags=["replies"])
    async def post_reply(
        cid: int, body: m.ReplyIn, request: Request, user: User = Depends(api_user)
    ) -> m.OutboxOut:
        row = await run_in_threadpool(
            lambda: replies_svc.queue_reply(
                engine(request),
                cid,
                user.id,
                body.text,
                override_guard=body.override_guard,
                idempotency_key=body.idempotency_key,
                ai_drafted=body.ai_drafted,
            )
        )
        return m.OutboxOut.model_validate(row)

    @api.post(
        "/conversations/{cid}/native-replies",
        response_model=m.NativeReplyOut,
        status_code=201,
        tags=["replies"],
        summary="Reply on X: draft a reply a person posts on the platform",
        responses={
            422: {
                "model": m.Problem,
                "description": "refused: too long, flagged by the reply guard (re-send with "
                "override_guard), a DM conversation, or `allowed_via_api` (the post summoned the "
                "account: POST /replies instead), or forbidden by the platform's rules",
            }
        },
    )
    async def draft_native_reply(
        cid: int, body: m.ReplyIn, request: Request, user: User = Depends(api_user)
    ) -> m.NativeReplyOut:
        """For a public post the platform's rules keep from the API (it did not mention or quote the
        account): the text passes the same checks as any public reply (length, reply guard, the
        platform's policy) and is kept as an outbox row of kind `native_reply` that Flockdesk never
        sends. Open `intent_link`, post it on the platform, then confirm with `.../sent`. The same
        `idempotency_key` (or the same text) returns the same draft."""
        eng = engine(request)
        draft = await run_in_threadpool(
            lambda: native_svc.draft_native_reply(
                eng,
                cid,
                user.id,
                body.text,
                override_guard=body.override_guard,
                idempotency_key=body.idempotency_key,
            )
        )
        return native_reply_out(eng, draft.row, draft.link)

    @api.get(
        "/conversations/{cid}/native-replies/{outbox_id}",
        response_model=m.NativeReplyOut,
        tags=["replies"],
        summary="A Reply on X draft: its link and whether it was matched",
    )
    async def get_native_reply(
        cid: int, outbox_id: int, request: Request, user: User = Depends(api_user)
    ) -> m.NativeReplyOut:
        eng = engine(request)
        row = await run_in_threadpool(native_row, eng, cid, outbox_id)
        return await run_in_threadpool(native_reply_out, eng, row)

    @api.post(
        "/conversations/{cid}/native-replies/{outbox_id}/sent",
        response_model=m.NativeReplyOut,
        tags=["replies"],
        summary="Reply on X: the person posted it",
    )
    async def confirm_native_reply(
        cid: int, outbox_id: int, request: Request, user: User = Depends(api_user)
    ) -> m.NativeReplyOut:
        """Record (and audit) that the person posted the reply on the platform. The worker then looks
        for it among the account's own posts and attaches it to the conversation (status `sent`).
        Confirming again changes nothing."""
        eng = engine(request)

        def confirm() -> OutboxRow:
            native_row(eng, cid, outbox_id)
            return native_svc.confirm_native(eng, outbox_id, user.id)

        row = await run_in_threadpool(confirm)
        return await run_in_threadpool(native_reply_out, eng, row)

    @api.post("/conversations/{cid}/assignments", response_model=m.ConversationDetail, tags=["assignments"])
    async def assign(
        cid: int, body: m.AssignIn, request: Request, user: User = Depends(api_user)
    ) -> m.ConversationDetail:
        eng = engine(request)
        if body.me:
            await run_in_threadpool(conv_svc.self_assign, eng, cid, user.id)
        elif body.assignee_id is None:
            await run_in_threadpool(conv_svc.unassign, eng, cid, user.id)
        else:
            await run_in_threadpool(conv_svc.assign, eng, cid, user.id, body.assignee_id)
        v = await run_in_threadpool(conv_svc.get_conversation, eng, cid)
        return m.ConversationDetail(
            conversation=m.ConversationOut.model_validate(v.conversation), tags=v.tags
        )

    @api.get("/contacts/{contact_id}", response_model=m.ContactOut, tags=["contacts"])
    async def get_contact(contact_id: int, request: Request, user: User = Depends(api_user)) -> m.ContactOut:
        panel = await run_in_threadpool(conv_svc.contact_panel, engine(request), contact_id)
        return m.ContactOut.model_validate(panel)

    @api.post("/check-reply", response_model=m.CheckReplyOut, tags=["replies"])
    async def check_reply(
        body: m.CheckReplyIn, request: Request, user: User = Depends(api_user)
    ) -> m.CheckReplyOut:
        contacts: list[str] = []
        if body.conversation_id is not None:
            contacts = await run_in_threadpool(
                org_contacts_svc.for_conversation, engine(request), body.conversation_id
            )
        return await run_in_threadpool(check_reply_info, body.text, body.kind, contacts)

    def ai_model(request: Request) -> assist.ChatModel:
        s = web(request).settings
        found = assist.model_from(s.ai_url, model=s.ai_model, timeout_s=s.ai_timeout_s, api_key=s.ai_api_key)
        if found is None:
            raise assist.AssistOff()
        return found

    @api.post(
        "/conversations/{cid}/draft-suggestions",
        response_model=m.DraftSuggestionOut,
        tags=["replies"],
        responses={503: {"description": "the model endpoint failed; `detail` says how"}},
    )
    async def suggest_draft(
        cid: int, request: Request, user: User = Depends(api_user)
    ) -> m.DraftSuggestionOut:
        """A reply draft from the AI model (FLOCKDESK_AI_URL), checked by the reply guard and the
        platform's policy. Nothing is queued: send it (edited) with `ai_drafted: true`."""
        model = ai_model(request)
        found = await run_in_threadpool(assist.suggest_reply, engine(request), model, cid)
        return m.DraftSuggestionOut(**found.to_json())

    @api.post("/conversations/{cid}/summary", response_model=m.SummaryOut, tags=["conversations"])
    async def summarise(cid: int, request: Request, user: User = Depends(api_user)) -> m.SummaryOut:
        """A short summary of the thread from the AI model (FLOCKDESK_AI_URL)."""
        model = ai_model(request)
        text = await run_in_threadpool(assist.summarise, engine(request), model, cid)
        return m.SummaryOut(summary=text)

    @api.post("/tokens", response_model=m.TokenOut, status_code=201, tags=["tokens"])
    async def create_token(body: m.TokenIn, request: Request, user: User = Depends(api_user)) -> m.TokenOut:
        token = await run_in_threadpool(
            users_svc.create_api_token, engine(request), user.id, body.label or "API token"
        )
        return m.TokenOut(token=token, label=body.label or "API token")

    admin_user = api_role("admin")

    @api.get("/users", response_model=list[m.UserOut], tags=["admin"])
    async def list_users(request: Request, user: User = Depends(admin_user)) -> list[m.UserOut]:
        people = await run_in_threadpool(users_svc.list_users, engine(request))
        return [m.UserOut.model_validate(p) for p in people]

    @api.post("/users", response_model=m.UserOut, status_code=201, tags=["admin"])
    async def create_user(body: m.UserIn, request: Request, user: User = Depends(admin_user)) -> m.UserOut:
        created = await run_in_threadpool(
            lambda: users_svc.create_user(
                engine(request), body.username, body.password, body.role, name=body.name, actor_id=user.id
            )
        )
        return m.UserOut.model_validate(created)

    @api.get("/audit", response_model=list[m.AuditOut], tags=["admin"])
    async def audit_log(
        request: Request,
        before_id: int | None = None,
        limit: int = Query(100, ge=1, le=500),
        user: User = Depends(admin_user),
    ) -> list[m.AuditOut]:
        events = await run_in_threadpool(
            lambda: audit_svc.list_events(engine(request), limit=limit, before_id=before_id)
        )
        return [m.AuditOut.model_validate(e) for e in events]

    return api
