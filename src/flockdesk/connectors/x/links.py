"""X's links (posts, profiles, the reply intent, DM compose) and DM thread ids."""

from __future__ import annotations

from urllib.parse import quote, urlencode

DM_COMPOSE = "https://x.com/messages/compose?recipient_id={recipient}"
POST_URL = "https://x.com/i/web/status/{post_id}"
PROFILE_URL = "https://x.com/{username}"
REPLY_INTENT = "https://x.com/intent/post"
DM_COMPOSE_BASE = "https://x.com/messages/compose"


def dm_deep_link(recipient_id: str) -> str:
    """X's compose-DM link: opens a DM to this user (the brand account, for the customer to click)."""
    return DM_COMPOSE.format(recipient=quote(recipient_id, safe=""))


def post_url(post_id: str) -> str:
    """A post's page on X (works without the author's handle)."""
    return POST_URL.format(post_id=quote(post_id, safe=""))


def profile_url(username: str) -> str:
    return PROFILE_URL.format(username=quote(username.lstrip("@"), safe=""))


def reply_intent_link(post_id: str, text: str) -> str:
    """X's web intent: the composer opens as a reply to `post_id` with the text filled in; the person
    signed in to the brand account posts it."""
    return f"{REPLY_INTENT}?{urlencode({'in_reply_to': post_id, 'text': text})}"


def dm_compose_link(recipient_id: str, text: str) -> str:
    """X's DM composer to `recipient_id` with the text filled in (for the person to send)."""
    return f"{DM_COMPOSE_BASE}?{urlencode({'recipient_id': recipient_id, 'text': text})}"


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
