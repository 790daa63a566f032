"""X's pay-per-use prices and billing rules (../shared/reference/x-2026.md section 4, X's pricing since
2026-02-06, owned reads since 2026-04-20; docs.x.com x-api/getting-started/pricing):

  Post read $0.005 - User read $0.010 - DM Event read $0.010 - Owned Reads $0.001 (the account's
  own mentions, posts and followers: `/2/users/{id}/...` where the id is the account's own) -
  Post create $0.015 ($0.20 with a URL, $0.010 for a summoned reply) - DM create $0.015.
  Delivered X Activity events: a post event as a post read, follow and `dm.received` / `chat.received`
  $0.010; sent and read events free.

Billing rules the meter applies (services/accounts/costs.py does the once-a-day part):
  * every resource a read returns is billed, in `data` and in `includes` (an expanded author is a
    user read), at the class of the endpoint that returned it: an owned timeline bills its included
    users as owned reads too;
  * a resource (post, user, DM event), read or delivered, is billed once per UTC day: re-reading a
    page, or polling DMs that return the same events, costs nothing more that day;
  * writes are never deduplicated; a refused request is free;
  * X Chat reads (conversations, events, public keys) are not in X's price list: $0. Only delivered
    `chat.received` events are billed.
A reply X accepts through the API is a summoned reply: X refuses the others on self-serve tiers.
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
    "summoned_reply": 0.010,
    "dm_create": 0.015,
    "event_follow": 0.010,
    "event_dm_received": 0.010,
    "event_chat_received": 0.010,
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
    "event_follow": "event_follow",
    "event_dm": "event_dm_received",
    "event_chat": "event_chat_received",
}
OWNED_ENDPOINTS = frozenset({"mentions", "own_posts", "followers"})
# the resource type of the items in a read's `data` (connectors/x/client.py names them so)
DATA_RESOURCE: dict[str, str] = {
    "mentions": "post",
    "own_posts": "post",
    "search": "post",
    "dm_events": "dm",
    "followers": "user",
    "users_me": "user",
}
# a resource type in `includes` -> its unit when the endpoint is not an owned read
INCLUDED_UNIT: dict[str, str] = {"post": "post_read", "user": "user_read", "dm": "dm_event_read"}


def call_cost(endpoint: str, items: int, *, has_url: bool = False, reply: bool = False) -> float:
    """Cost of one call to `endpoint` that returned (or created) `items` items, none deduplicated."""
    unit = ENDPOINT_UNIT.get(endpoint)
    if unit is None:
        return 0.0
    if endpoint == "post_create":
        if not items:
            return 0.0  # a refused post costs nothing
        if has_url:
            return UNIT_PRICES["post_create_with_url"]
        return UNIT_PRICES["summoned_reply" if reply else "post_create"]
    if endpoint == "dm_create":
        return UNIT_PRICES[unit] if items else 0.0
    return UNIT_PRICES[unit] * items


def resource_cost(endpoint: str, resource: str) -> float:
    """Cost of one resource ("post:123") that `endpoint` returned or delivered, billed the first time
    that UTC day."""
    unit = ENDPOINT_UNIT.get(endpoint)
    if unit is None or endpoint in ("post_create", "dm_create"):
        return 0.0
    if endpoint.startswith("event_") or endpoint in OWNED_ENDPOINTS:
        return UNIT_PRICES[unit]
    rtype = resource.partition(":")[0]
    if rtype == DATA_RESOURCE.get(endpoint):
        return UNIT_PRICES[unit]
    included = INCLUDED_UNIT.get(rtype)
    return UNIT_PRICES[included] if included is not None else 0.0


def read_resources(endpoint: str, body: object) -> tuple[str, ...]:
    """The billable resources in a read's body, "<type>:<id>", for the endpoints X prices."""
    rtype = DATA_RESOURCE.get(endpoint)
    if rtype is None or not isinstance(body, dict):
        return ()
    out: list[str] = []
    data = body.get("data")
    for item in data if isinstance(data, list) else [data] if isinstance(data, dict) else []:
        if isinstance(item, dict) and isinstance(item.get("id"), str | int):
            out.append(f"{rtype}:{item['id']}")
    includes = body.get("includes")
    if isinstance(includes, dict):
        for key, kind in (("users", "user"), ("tweets", "post"), ("posts", "post")):
            listed = includes.get(key)
            for item in listed if isinstance(listed, list) else []:
                if isinstance(item, dict) and isinstance(item.get("id"), str | int):
                    out.append(f"{kind}:{item['id']}")
    return tuple(dict.fromkeys(out))
