"""The inbox: views, filters, sort, keyset "Load more", the rows fragment for live updates, search."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from flockdesk.domain import languages
from flockdesk.domain.vocabulary import INTENTS, SENTIMENTS
from flockdesk.services.conversations import inbox as inbox_svc
from flockdesk.services.conversations import lookups as web_lookups
from flockdesk.services.conversations.inbox import InboxFilters
from flockdesk.services.team.users import User
from flockdesk.web.pages import VIEW_LABELS, lookups, render
from flockdesk.web.security import page_user, web

router = APIRouter()
FILTER_KEYS = (
    "account",
    "channel",
    "assignee",
    "tag",
    "intent",
    "sentiment",
    "sensitive",
    "urgent",
    "move_to_dm",
    "influencer",
    "lang",
)
YES_NO = {"yes": True, "no": False}
CHANNELS = {"mention": "Mention", "search": "Listening", "dm": "DM"}


def _int(v: str | None) -> int | None:
    try:
        return int(v) if v not in (None, "") else None
    except ValueError:
        return None


def parse_filters(params: dict[str, str]) -> tuple[Any, dict[str, str]]:
    """InboxFilters from query parameters (unknown values ignored) and the cleaned parameters."""
    kept = {k: params[k] for k in FILTER_KEYS if params.get(k)}
    sensitive = YES_NO.get(kept.get("sensitive", ""))
    filters = InboxFilters(
        account_id=_int(kept.get("account")),
        channel=kept.get("channel") if kept.get("channel") in CHANNELS else None,
        assignee_id=_int(kept.get("assignee")),
        tag=kept.get("tag") or None,
        intent=kept.get("intent") if kept.get("intent") in INTENTS else None,
        sentiment=kept.get("sentiment") if kept.get("sentiment") in SENTIMENTS else None,
        sensitive=sensitive,
        urgent=YES_NO.get(kept.get("urgent", "")),
        move_to_dm=YES_NO.get(kept.get("move_to_dm", "")),
        influencer=YES_NO.get(kept.get("influencer", "")),
        lang=languages.clean_code(kept.get("lang")),
    )
    return filters, kept


def load_page(request: Request, user: User, view: str) -> dict[str, Any]:
    params = dict(request.query_params)
    filters, kept = parse_filters(params)
    sort = "waiting" if params.get("sort") == "waiting" else "priority"
    page = inbox_svc.list_view(
        web(request).engine,
        view,
        user_id=user.id,
        filters=filters,
        sort=sort,
        limit=50,
        cursor=params.get("cursor") or None,
    )
    query = {**kept, "sort": sort}
    more = None
    if page.next_cursor:
        more = f"/inbox/{view}?" + urlencode({**query, "cursor": page.next_cursor})
    return {
        "view": view,
        "rows": page.rows,
        "more_url": more,
        "filters": kept,
        "sort": sort,
        "query_string": urlencode(query),
        "channels": CHANNELS,
        "intents": INTENTS,
        "sentiments": SENTIMENTS,
        "languages": [(code, languages.name(code)) for code in languages.COMMON],
        "acct_names": web_lookups.account_labels(web(request).engine),
    }


async def _inbox(request: Request, user: User, view: str) -> Response:
    if view not in VIEW_LABELS:
        return await render(
            request,
            user,
            "error.html",
            404,
            status=404,
            message=f"No inbox view named {view!r}. Pick one from the list on the left.",
        )
    data = await run_in_threadpool(load_page, request, user, view)
    data.update(await run_in_threadpool(lookups, web(request).engine))
    return await render(request, user, "inbox.html", **data)


@router.get("/")
async def home(request: Request, user: User = Depends(page_user)) -> Response:
    return await _inbox(request, user, "all")


@router.get("/inbox/{view}")
async def inbox_view(view: str, request: Request, user: User = Depends(page_user)) -> Response:
    return await _inbox(request, user, view)


@router.get("/inbox/{view}/rows")
async def inbox_rows(view: str, request: Request, user: User = Depends(page_user)) -> Response:
    """The rows of one page as an HTML fragment (for "Load more" and live inserts)."""
    if view not in VIEW_LABELS:
        view = "all"
    data = await run_in_threadpool(load_page, request, user, view)
    resp: Response = web(request).templates.TemplateResponse(request, "_rows.html", data)
    return resp


@router.get("/search")
async def search_page(request: Request, user: User = Depends(page_user)) -> Response:
    q = request.query_params.get("q", "").strip()
    rows: list[Any] = []
    more = None
    error = ""
    if q:
        try:
            page = await run_in_threadpool(
                lambda: inbox_svc.search(
                    web(request).engine, q, limit=50, cursor=request.query_params.get("cursor") or None
                )
            )
            rows = page.rows
            if page.next_cursor:
                more = "/search?" + urlencode({"q": q, "cursor": page.next_cursor})
        except ValueError as exc:
            error = str(exc)
    return await render(
        request,
        user,
        "search.html",
        status_code=400 if error else 200,
        q=q,
        rows=rows,
        more_url=more,
        error=error,
        channels=CHANNELS,
        view="search",
    )
