"""Form posts of the HTML pages: run a service action, then redirect back with a flash message.

A user-fixable error (web/errors.py `status_for`) comes back as `?error=` on the page it was posted
from; anything else propagates (a 500, logged). Success comes back as `?notice=`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from flockdesk.web import errors


def back(path: str, *, notice: str = "", error: str = "") -> RedirectResponse:
    """303 to `path` with the flash message in its query string."""
    q = {k: v for k, v in (("notice", notice), ("error", error)) if v}
    return RedirectResponse(path + (f"?{urlencode(q)}" if q else ""), status_code=303)


async def attempt(path: str, fn: Callable[[], Any], notice: str | Callable[[Any], str]) -> RedirectResponse:
    """Run `fn` off the event loop; back to `path` with its error, or with `notice` (a text, or a
    function of fn's result)."""
    try:
        result = await run_in_threadpool(fn)
    except Exception as exc:
        if errors.status_for(exc) is None:
            raise
        return back(path, error=errors.message_for(exc))
    return back(path, notice=notice(result) if callable(notice) else notice)


def flash(request: Request) -> dict[str, Any]:
    """The flash message of this request, as template variables `notice` and `error`."""
    return {"notice": request.query_params.get("notice", ""), "error": request.query_params.get("error", "")}
