"""X's pay-per-use unit prices (../shared/reference/x-api.md section 2, "Access and pricing",
2026-02-06):

  Post read $0.005 - User read $0.010 - DM Event read $0.010 - Followers read $0.010 -
  Post create $0.015 ($0.20 with a URL) - DM create $0.015 - Owned Reads $0.001 (your own
  /2/users/{id}/mentions, /tweets and /followers, since 2026-04-20).

Only the items in a response's `data` are priced (expanded users in `includes` are not); X
deduplicates per 24 h UTC, so these figures are an upper bound.
"""

from __future__ import annotations

# USD per unit
UNIT_PRICES: dict[str, float] = {
    "post_read": 0.005,
    "user_read": 0.010,
    "dm_event_read": 0.010,
    "followers_read": 0.010,
    "owned_read": 0.001,
    "post_create": 0.015,
    "post_create_with_url": 0.20,
    "dm_create": 0.015,
}

# logical endpoint (as the connector reports it) -> the unit its items are priced at
ENDPOINT_UNIT: dict[str, str] = {
    "mentions": "owned_read",
    "own_posts": "owned_read",  # GET /2/users/{id}/tweets: the outbox's check for a lost answer
    "followers": "owned_read",
    "search": "post_read",
    "dm_events": "dm_event_read",
    "users_me": "user_read",
    "post_create": "post_create",
    "dm_create": "dm_create",
    # delivered X Activity API events (connectors/x/activity.py BILLED_EVENTS); sent events are free
    "event_post": "post_read",
    "event_follow": "user_read",
    "event_dm": "dm_event_read",
    "event_chat": "dm_event_read",
}


def call_cost(endpoint: str, items: int, *, has_url: bool = False) -> float:
    """Cost of one call to `endpoint` that returned (or created) `items` items."""
    unit = ENDPOINT_UNIT.get(endpoint)
    if unit is None:
        return 0.0
    if unit == "post_create" and has_url:
        unit = "post_create_with_url"
    if endpoint in ("post_create", "dm_create"):
        return UNIT_PRICES[unit] if items else 0.0
    return UNIT_PRICES[unit] * items
