"""Admin settings for X accounts (connect with OAuth 2.0 PKCE) and listening queries (with cost)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from flockdesk.domain.errors import InvalidInput
from flockdesk.services.accounts import connected as accounts_svc
from flockdesk.services.accounts import costs as costs_svc
from flockdesk.services.accounts import listening, org_contacts, xchat_keys
from flockdesk.services.accounts import oauth as oauth_svc
from flockdesk.services.accounts import sources as sources_svc
from flockdesk.services.monitoring import health as health_svc
from flockdesk.services.team.users import User
from flockdesk.web.flash import attempt, back, flash
from flockdesk.web.pages import render
from flockdesk.web.security import page_role, web

router = APIRouter()
admin_only = page_role("admin")
DEFAULT_POSTS_PER_DAY = 100.0


def callback_url(request: Request) -> str:
    return str(request.url_for("accounts_callback"))


def _contact_forms(details: dict[int, org_contacts.OrgContacts]) -> dict[int, dict[str, str]]:
    """Each account's stored details as the form shows them: one a line."""
    return {
        aid: {"phones": "\n".join(d.phones), "emails": "\n".join(d.emails), "urls": "\n".join(d.urls)}
        for aid, d in details.items()
    }


async def _accounts_page(
    request: Request,
    user: User,
    *,
    status: int = 200,
    submitted: tuple[int, dict[str, str], list[str]] | None = None,
) -> Response:
    """The page; `submitted` (account id, the form's values, the problems) shows a refused contact
    form as the admin typed it, so nothing typed is lost."""
    ctx = web(request)

    def load() -> tuple[Any, dict[int, xchat_keys.ChatKeyStatus], dict[int, org_contacts.OrgContacts]]:
        found = accounts_svc.list_accounts(ctx.engine)
        keys = {a.id: xchat_keys.status(ctx.engine, ctx.settings, a.id) for a in found}
        return found, keys, org_contacts.for_accounts(ctx.engine, [a.id for a in found])

    items, chat_keys, details = await run_in_threadpool(load)
    forms = _contact_forms(details)
    problems: dict[int, list[str]] = {}
    if submitted is not None:
        forms[submitted[0]] = submitted[1]
        problems[submitted[0]] = submitted[2]
    return await render(
        request,
        user,
        "settings_accounts.html",
        status,
        items=items,
        chat_keys=chat_keys,
        contact_forms=forms,
        contact_problems=problems,
        purposes=oauth_svc.PURPOSES,
        tab="accounts",
        callback=callback_url(request),
        **flash(request),
    )


@router.get("/settings/accounts/{account_id}/health")
async def account_health_page(
    account_id: int, request: Request, user: User = Depends(admin_only)
) -> Response:
    ctx = web(request)
    found = await run_in_threadpool(
        lambda: health_svc.account_health(
            ctx.engine, account_id, live_window_s=ctx.settings.realtime_live_window_s
        )
    )
    return await render(
        request, user, "settings_account_health.html", h=found, tab="accounts", **flash(request)
    )


@router.post("/settings/accounts/{account_id}/api-version")
async def account_api_version(
    account_id: int, request: Request, api_version: str = Form(""), user: User = Depends(admin_only)
) -> Response:
    ctx = web(request)
    chosen = api_version.strip() or None
    return await attempt(
        f"/settings/accounts/{account_id}/health",
        lambda: accounts_svc.set_api_version(ctx.engine, account_id, chosen, actor_id=user.id),
        f"API version set to {chosen}." if chosen else "API version set to the current one.",
    )


@router.get("/settings/accounts")
async def accounts_page(request: Request, user: User = Depends(admin_only)) -> Response:
    return await _accounts_page(request, user)


@router.post("/settings/accounts/{account_id}/contacts")
async def accounts_contacts(
    account_id: int,
    request: Request,
    phones: str = Form(""),
    emails: str = Form(""),
    urls: str = Form(""),
    region: str = Form(""),
    user: User = Depends(admin_only),
) -> Response:
    """Save the organisation's own phones, emails and URLs for this account; a refused form comes
    back as typed with every problem listed, and the stored details stay as they were."""
    engine = web(request).engine
    form = {"phones": phones, "emails": emails, "urls": urls, "region": region}
    try:
        details = org_contacts.parse_org_contacts(phones, emails, urls, region)
    except org_contacts.OrgContactsInvalid as exc:
        return await _accounts_page(request, user, status=400, submitted=(account_id, form, exc.problems))
    return await attempt(
        "/settings/accounts",
        lambda: org_contacts.set_org_contacts(engine, account_id, details, actor_id=user.id),
        "Contact details saved: triage and the reply guard treat them as the organisation's own.",
    )


@router.post("/settings/accounts/connect")
async def accounts_connect(
    request: Request,
    base_url: str = Form("https://api.x.com"),
    purpose: str = Form("care"),
    client_id: str = Form(""),
    user: User = Depends(admin_only),
) -> Response:
    ctx = web(request)
    try:
        url = await run_in_threadpool(
            lambda: oauth_svc.start(
                ctx.engine,
                base_url=base_url,
                purpose=purpose,
                client_id=client_id,
                redirect_uri=callback_url(request),
                user_id=user.id,
                allowed_hosts=ctx.settings.allowed_api_hosts,
            )
        )
    except oauth_svc.OAuthError as exc:
        return back("/settings/accounts", error=str(exc))
    # A page that navigates on (not a redirect): the CSP's form-action 'self' would block a form
    # submission that redirects to another origin.
    return await render(request, user, "oauth_continue.html", authorize_url=url, tab="accounts")


@router.get("/settings/accounts/callback", name="accounts_callback")
async def accounts_callback(request: Request, user: User = Depends(admin_only)) -> Response:
    ctx = web(request)
    params = request.query_params
    if params.get("error"):
        return back(
            "/settings/accounts",
            error=f"X did not authorise the account ({params.get('error')}). Try again and approve access.",
        )

    def run() -> Any:
        tokens = oauth_svc.finish(
            ctx.engine,
            state=params.get("state", ""),
            code=params.get("code", ""),
            redirect_uri=callback_url(request),
            user_id=user.id,
            timeout_s=ctx.settings.http_timeout_s,
            allowed_hosts=ctx.settings.allowed_api_hosts,
        )
        return accounts_svc.add_account_from_oauth(
            ctx.engine,
            ctx.settings,
            base_url=tokens.base_url,
            access_token=tokens.access_token,
            refresh_token=tokens.refresh_token,
            expires_in=tokens.expires_in,
            purpose=tokens.purpose,
            client_id=tokens.client_id,
            actor_id=user.id,
        )

    return await attempt(
        "/settings/accounts", run, lambda acct: f"Connected @{acct.username} ({acct.purpose})."
    )


@router.post("/settings/accounts/{account_id}/xchat-keys/generate")
async def xchat_keys_generate(
    account_id: int, request: Request, user: User = Depends(admin_only)
) -> Response:
    ctx = web(request)
    return await attempt(
        "/settings/accounts",
        lambda: xchat_keys.generate(ctx.engine, ctx.settings, account_id, actor_id=user.id),
        lambda state: (
            f"{state.message}. Keep a backup: flockdesk accounts xchat-keys {account_id} --export FILE"
        ),
    )


@router.post("/settings/accounts/{account_id}/xchat-keys/import")
async def xchat_keys_import(
    account_id: int,
    request: Request,
    backup: UploadFile = File(...),
    user: User = Depends(admin_only),
) -> Response:
    ctx = web(request)
    blob = await backup.read(1024)
    return await attempt(
        "/settings/accounts",
        lambda: xchat_keys.import_backup(ctx.engine, ctx.settings, account_id, blob, actor_id=user.id),
        lambda state: str(state.message),
    )


def _cost(posts_per_day: float, platform: str) -> float | None:
    try:
        return float(costs_svc.estimate_query_monthly_cost(posts_per_day, platform=platform))
    except (ValueError, TypeError):
        return None


@router.get("/settings/listening")
async def listening_page(request: Request, user: User = Depends(admin_only)) -> Response:
    rows = await run_in_threadpool(listening.query_costs, web(request).engine)
    return await render(
        request,
        user,
        "settings_listening.html",
        rows=rows,
        tab="listening",
        per_day=DEFAULT_POSTS_PER_DAY,
        **flash(request),
    )


@router.post("/settings/listening")
async def listening_add(
    request: Request,
    query: str = Form(""),
    include_retweets: str = Form(""),
    posts_per_day: str = Form(""),
    user: User = Depends(admin_only),
) -> Response:
    ctx = web(request)
    try:
        given = listening.parse_volume(posts_per_day)
    except InvalidInput as exc:
        return back("/settings/listening", error=str(exc))
    volume = float(given) if given is not None else DEFAULT_POSTS_PER_DAY

    def run() -> sources_svc.SourceInfo:
        return sources_svc.add_search_source(
            ctx.engine,
            ctx.settings,
            query,
            include_retweets=include_retweets == "yes",
            expected_posts_per_day=given,
            actor_id=user.id,
        )

    def added(src: sources_svc.SourceInfo) -> str:
        cost = _cost(volume, src.platform)
        note = f" Estimated cost: ${cost:,.2f}/month at {volume:g} posts/day." if cost is not None else ""
        return "Listening query added." + note

    return await attempt("/settings/listening", run, added)


@router.post("/settings/listening/{source_id}/volume")
async def listening_volume(
    source_id: int, request: Request, posts_per_day: str = Form(""), user: User = Depends(admin_only)
) -> Response:
    """Change (or clear) the expected posts a day of a query."""
    engine = web(request).engine
    try:
        given = listening.parse_volume(posts_per_day)
    except InvalidInput as exc:
        return back("/settings/listening", error=str(exc))
    return await attempt(
        "/settings/listening",
        lambda: listening.set_expected_volume(engine, source_id, given, actor_id=user.id),
        "Expected volume saved.",
    )


@router.post("/settings/listening/{source_id}/delete")
async def listening_delete(source_id: int, request: Request, user: User = Depends(admin_only)) -> Response:
    engine = web(request).engine
    return await attempt(
        "/settings/listening",
        lambda: sources_svc.remove_source(engine, source_id, actor_id=user.id),
        "Listening query removed.",
    )
