"""Map service errors to HTTP statuses by class, without the web layer depending on their modules."""

from __future__ import annotations

_BY_NAME = {"NotFound": 404, "InvalidInput": 400, "Conflict": 409, "UserError": 400, "SourceError": 400}


def status_for(exc: BaseException) -> int | None:
    """HTTP status for an error a user can cause (the message says what to do), else None."""
    for cls in type(exc).__mro__:
        if cls.__name__ in _BY_NAME:
            return _BY_NAME[cls.__name__]
        if cls is PermissionError:
            return 403
        if cls is LookupError:
            return 404
        if cls is ValueError:
            return 400
    return None


def message_for(exc: BaseException) -> str:
    advice = getattr(exc, "advice", None)
    msg = str(exc) or type(exc).__name__
    if advice and advice not in msg:
        msg = f"{msg} {advice}"
    return msg


def user_error_classes() -> list[type[Exception]]:
    """Exception classes that mean "the user can fix this" (handled as 4xx, never 500)."""
    classes: list[type[Exception]] = [LookupError, ValueError, PermissionError]
    try:
        from flockdesk.services import errors as svc_errors
    except ImportError:
        return classes
    for name in ("NotFound", "InvalidInput", "Conflict"):
        cls = getattr(svc_errors, name, None)
        if isinstance(cls, type) and issubclass(cls, Exception) and cls not in classes:
            classes.append(cls)
    return classes
