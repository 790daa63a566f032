"""Errors a user can cause, and only those: each carries the HTTP status it maps to and a message that
says what to do about it.

Any layer may raise them (connectors, triage, services); the web app and the REST API turn every
`UserError` into its 4xx with its message, and everything else into a 500 with a generic message
(the stack trace goes to the log). A bug therefore never shows its internals to the user, and a
user's mistake never looks like a crash.

The subclasses also derive from the builtin the condition resembles (ValueError, LookupError,
PermissionError), so code that catches the builtin keeps working.
"""

from __future__ import annotations

from typing import Any, ClassVar


class UserError(Exception):
    """Something the user can fix; `str(exc)` says how. `status` is the HTTP status it maps to."""

    status: ClassVar[int] = 400

    def __init__(self, message: str, *, advice: str = "") -> None:
        super().__init__(message)
        self.advice = advice

    @property
    def message(self) -> str:
        """The message shown to the user: the error and, when given, the advice."""
        text = str(self)
        if self.advice and self.advice not in text:
            text = f"{text} {self.advice}"
        return text


class InvalidInput(UserError, ValueError):
    """The user gave something that cannot be accepted; the message says how to fix it."""


class NotFound(UserError, LookupError):
    """The thing asked for does not exist (or no longer does)."""

    status = 404


class NotAllowed(UserError, PermissionError):
    """The user may not do this (their role, or a disabled account)."""

    status = 403


class Conflict(UserError, RuntimeError):
    """The request clashes with the current state (e.g. retrying a row that did not fail)."""

    status = 409


class ReplyRefused(InvalidInput):
    """A reply that breaks a safety rule. `reason` is a stable code for the UI and API."""

    status = 422

    def __init__(self, reason: str, message: str, advice: str = "") -> None:
        super().__init__(message, advice=advice)
        self.reason = reason


class PolicyRefused(ReplyRefused):
    """The platform's rules keep this action from its API (domain/policy.py). `verdict` is
    "needs_person" (a person may do it on the platform: `native_link` opens its composer with the
    text) or "forbidden"; `reason` is the policy's code, the message its words for people."""

    def __init__(self, verdict: str, reason: str, message: str, native_link: str | None = None) -> None:
        super().__init__(reason, message)
        self.verdict = verdict
        self.native_link = native_link


class GuardFlagged(ReplyRefused):
    """The reply guard flagged a public reply; re-send with override_guard=True to post it anyway."""

    def __init__(self, message: str, check: Any) -> None:
        super().__init__("guard_flagged", message, getattr(check, "advice", ""))
        self.check = check


def conversation_not_found(conversation_id: int) -> NotFound:
    """The error for a conversation id that is not in the store (the same words everywhere)."""
    return NotFound(f"conversation {conversation_id} does not exist; go back to the inbox and pick another")
