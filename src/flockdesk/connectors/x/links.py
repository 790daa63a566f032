"""X's links and DM thread ids."""

from __future__ import annotations

from urllib.parse import quote

DM_COMPOSE = "https://x.com/messages/compose?recipient_id={recipient}"


def dm_deep_link(recipient_id: str) -> str:
    """X's compose-DM link: opens a DM to this user (the brand account, for the customer to click)."""
    return DM_COMPOSE.format(recipient=quote(recipient_id, safe=""))


def dm_thread_id(a: str, b: str) -> str:
    """X's dm_conversation_id for a one-to-one DM: the two user ids, smaller first."""
    first, second = sorted((a, b), key=lambda s: (0, int(s), "") if s.isdigit() else (1, 0, s))
    return f"{first}-{second}"


def id_key(external_id: str) -> tuple[int, int, str]:
    """X ids are decimal snowflakes: a longer number is newer. Anything else sorts before them."""
    return (1 if external_id.isdigit() else 0, len(external_id), external_id)


def compare_ids(a: str, b: str) -> int:
    ka, kb = id_key(a), id_key(b)
    return (ka > kb) - (ka < kb)
