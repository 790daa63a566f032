"""Map errors to HTTP: a `UserError` (domain/errors.py) is its 4xx with its message; anything else is
not the user's doing and becomes a 500 with a generic message, its stack trace in the log."""

from __future__ import annotations

import logging

from flockdesk.domain.errors import UserError

log = logging.getLogger(__name__)

GENERIC_MESSAGE = (
    "Something went wrong on our side and the error was logged. Try again; if it keeps happening, "
    "tell your admin the time it happened."
)


def status_for(exc: BaseException) -> int | None:
    """The 4xx of an error a user can cause, else None (a 500: the code's fault, not the user's)."""
    return exc.status if isinstance(exc, UserError) else None


def message_for(exc: BaseException) -> str:
    """What the user is shown: a UserError's own message, never the text of any other exception
    (which may be a key name, a SQL fragment or a path)."""
    return exc.message if isinstance(exc, UserError) else GENERIC_MESSAGE
