"""Errors the inbox services raise. Each message says what the user can do about it.

The web app and REST API map them: NotFound -> 404, InvalidInput -> 400/422, Conflict -> 409,
PermissionError (builtin) -> 403.
"""

from __future__ import annotations

from typing import Any


class NotFound(LookupError):
    """The thing asked for does not exist (or no longer does)."""


def conversation_not_found(conversation_id: int) -> NotFound:
    """The error for a conversation id that is not in the store (the same words everywhere)."""
    return NotFound(f"conversation {conversation_id} does not exist; go back to the inbox and pick another")


class InvalidInput(ValueError):
    """The user gave something the service cannot accept; the message says how to fix it."""


class Conflict(RuntimeError):
    """The request clashes with the current state (e.g. retrying a row that did not fail)."""


class ReplyRefused(InvalidInput):
    """A reply that breaks a safety rule. `reason` is a stable code for the UI and API."""

    def __init__(self, reason: str, message: str, advice: str = "") -> None:
        super().__init__(message)
        self.reason = reason
        self.advice = advice


class GuardFlagged(ReplyRefused):
    """The reply guard flagged a public reply; re-send with override_guard=True to post it anyway."""

    def __init__(self, message: str, check: Any) -> None:
        super().__init__("guard_flagged", message, getattr(check, "advice", ""))
        self.check = check
