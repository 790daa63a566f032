"""What every page needs: the signed-in user, CSRF token, navigation, the spike alert banner."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from flockdesk.services.conversations import lookups as web_lookups
from flockdesk.services.team import note_mentions as mentions
from flockdesk.services.team.users import User
from flockdesk.web.security import current_session, web

VIEW_LABELS = {
    "all": "All open",
    "mine": "Mine",
    "unassigned": "Unassigned",
    "mentions": "Mentions",
    "dms": "DMs",
    "listening": "Listening",
    "snoozed": "Snoozed",
    "resolved": "Resolved",
    "leads": "Leads",
    "influencers": "Influencers",
}


def lookups(engine: Engine) -> dict[str, Any]:
    """Choices for the inbox filters: accounts, teammates, tags."""
    choices = web_lookups.filter_choices(engine)
    return {"accounts": choices.accounts, "people": choices.people, "tag_names": choices.tag_names}


async def render(
    request: Request, user: User, template: str, status_code: int = 200, **context: Any
) -> Response:
    ctx = web(request)
    sess = await current_session(request)
    alert = await run_in_threadpool(web_lookups.latest_unacknowledged_alert, ctx.engine)
    unread = await run_in_threadpool(mentions.unread_count, ctx.engine, user.id)
    base = {
        "user": user,
        "csrf_token": sess.csrf_token if sess else "",
        "views": VIEW_LABELS,
        "alert": alert,
        "mentions_unread": unread,
        "path": request.url.path,
    }
    base.update(context)
    return ctx.templates.TemplateResponse(request, template, base, status_code=status_code)
