"""Which parameter spellings each X OpenAPI spec accepts for the reads the connector makes, and how a
read is respelled when the API refuses a parameter anyway.

X renamed tweets to posts between OpenAPI 2.159 and 2.167: `tweet.fields` became `post.fields`, the
expansion `referenced_tweets.id` became `referenced_posts`, and 2.167's field lists lack ids that stay
reachable as expansions only (a post's `author_id`, `in_reply_to_user_id` and `referenced_tweets`; a
DM event's `sender_id` and `participant_ids`). Asking for the expansion brings the id into the object
as well. `SPELLINGS` is written out by hand and checked against both spec files by
tests/connectors/x/test_specs.py, so a third spec is one more entry and one more file.

An API host need not follow the spec it claims (X's own playground validates 2.167 strictly; a proxy
may lag behind). A 400 that names a parameter, in either spec's problem shape, becomes a
`Degradation`: the refused value (or the whole parameter) is respelled where the other spec has a
spelling for it, else dropped, and the read is retried. Degradations are kept per source by the
caller (services/monitoring/drift.py) and handed back before each read, so the API is asked the
refused thing once, not on every poll.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from flockdesk.connectors.base import Degradation

SPECS = ("2.159", "2.167")
DEFAULT_SPEC = "2.167"  # the spec X publishes now

USER_FIELDS = ("description", "public_metrics", "verified", "name", "username")
# what the parser reads from a post and a DM event, in 2.159's spelling (all of it fields there)
POST_FIELDS_2159 = (
    "author_id",
    "conversation_id",
    "created_at",
    "in_reply_to_user_id",
    "referenced_tweets",
    "entities",
)
DM_FIELDS_2159 = (
    "id",
    "text",
    "event_type",
    "created_at",
    "dm_conversation_id",
    "sender_id",
    "participant_ids",
    "entities",
)
# 2.167: the ids that are no longer fields are asked for as expansions
POST_FIELDS_2167 = ("conversation_id", "created_at", "entities")
POST_EXPANSIONS_2167 = ("author_id", "in_reply_to_user_id", "referenced_posts")
DM_FIELDS_2167 = ("id", "text", "event_type", "created_at", "dm_conversation_id", "entities")
DM_EXPANSIONS_2167 = ("sender_id", "participant_ids")

# logical endpoint -> the spec's path; the same paths in both specs
PATHS = {
    "mentions": "/2/users/{id}/mentions",
    "search": "/2/tweets/search/recent",
    "own_posts": "/2/users/{id}/tweets",
    "dm_events": "/2/dm_events",
}

Params = dict[str, tuple[str, ...]]

SPELLINGS: dict[str, dict[str, Params]] = {
    "2.159": {
        "mentions": {
            "tweet.fields": POST_FIELDS_2159,
            "expansions": ("author_id",),
            "user.fields": USER_FIELDS,
        },
        "search": {
            "tweet.fields": POST_FIELDS_2159,
            "expansions": ("author_id",),
            "user.fields": USER_FIELDS,
        },
        "own_posts": {"tweet.fields": POST_FIELDS_2159},
        "dm_events": {
            "dm_event.fields": DM_FIELDS_2159,
            "expansions": ("sender_id",),
            "user.fields": USER_FIELDS,
        },
    },
    "2.167": {
        "mentions": {
            "post.fields": POST_FIELDS_2167,
            "expansions": POST_EXPANSIONS_2167,
            "user.fields": USER_FIELDS,
        },
        "search": {
            "post.fields": POST_FIELDS_2167,
            "expansions": POST_EXPANSIONS_2167,
            "user.fields": USER_FIELDS,
        },
        "own_posts": {"post.fields": POST_FIELDS_2167, "expansions": POST_EXPANSIONS_2167},
        "dm_events": {
            "dm_event.fields": DM_FIELDS_2167,
            "expansions": DM_EXPANSIONS_2167,
            "user.fields": USER_FIELDS,
        },
    },
}

FIELD_PARAMS = ("tweet.fields", "post.fields", "dm_event.fields")
# a whole parameter refused: the other spec's name for it
PARAM_RESPELLINGS = {"tweet.fields": ("post.fields",), "post.fields": ("tweet.fields",)}
# one value refused: where else it may be asked for, in order ("param=value")
VALUE_RESPELLINGS: dict[tuple[str, str], tuple[str, ...]] = {
    ("expansions", "referenced_tweets.id"): ("expansions=referenced_posts",),
    ("expansions", "referenced_posts"): ("expansions=referenced_tweets.id",),
}
for _param in FIELD_PARAMS:
    for _field in ("author_id", "in_reply_to_user_id", "sender_id", "participant_ids"):
        VALUE_RESPELLINGS[(_param, _field)] = (f"expansions={_field}",)
    VALUE_RESPELLINGS[(_param, "referenced_tweets")] = (
        "expansions=referenced_posts",
        "expansions=referenced_tweets.id",
    )
MAX_DEGRADATIONS = 12  # per endpoint: more than that and the host is not an X API at all

_VALUE_PATTERNS = (
    re.compile(r"invalid value '([^']+)'"),
    re.compile(r"value \[([^\]]+)\]"),
    re.compile(r"value '([^']+)'"),
)


def check_spec(version: str) -> str:
    if version not in SPECS:
        raise ValueError(f"unknown X API version {version!r}: one of {', '.join(SPECS)}")
    return version


def base_params(version: str, endpoint: str) -> Params:
    return dict(SPELLINGS[check_spec(version)][endpoint])


def _split(value: str) -> tuple[str, str | None]:
    param, sep, item = value.partition("=")
    return param, (item if sep else None)


def apply(params: Mapping[str, Sequence[str]], degradations: Iterable[Degradation]) -> Params:
    """The list parameters with each degradation applied in order."""
    out: dict[str, list[str]] = {k: list(v) for k, v in params.items()}
    for d in degradations:
        if d.value is None:
            moved = out.pop(d.parameter, [])
            targets = [d.replacement] if d.replacement else []
        else:
            values = out.get(d.parameter, [])
            moved = [d.value] if d.value in values else []
            if moved:
                values.remove(d.value)
                if not values:
                    out.pop(d.parameter, None)
            target, item = _split(d.replacement) if d.replacement else ("", None)
            targets = [target] if d.replacement else []
            moved = [item] if moved and item else moved
        for target in targets:
            into = out.setdefault(target, [])
            into.extend(v for v in moved if v not in into)
    return {k: tuple(v) for k, v in out.items() if v}


def refused(body: Any) -> tuple[str, str | None, str] | None:
    """(parameter, value or None, the platform's words) from a 400 body that names a parameter.

    Both specs' shapes: 2.159's `errors: [{message, parameters: {name: [...]}}]` and 2.167's flat
    `{type: .../invalid-request, detail, parameter, value}` (also inside `errors`)."""
    if not isinstance(body, dict):
        return None
    candidates = [body, *[e for e in body.get("errors") or [] if isinstance(e, dict)]]
    for obj in candidates:
        param = obj.get("parameter")
        if isinstance(param, str) and param:
            value = obj.get("value")
            words = obj.get("detail") or obj.get("message") or ""
            return param, value if isinstance(value, str) and value else None, str(words)
        named = obj.get("parameters")
        if isinstance(named, dict) and named:
            param = next(iter(named))
            message = str(obj.get("message") or body.get("detail") or "")
            said = named[param] if isinstance(named[param], list) else []
            text = " ".join([message, *(str(s) for s in said)])
            for pattern in _VALUE_PATTERNS:
                m = pattern.search(text)
                if m:
                    return str(param), m.group(1).strip(), message
            # 2.159 lists the refused values themselves; a sentence is a message, not a value
            plain = [str(s) for s in said if isinstance(s, str) and s and " " not in s]
            return str(param), (plain[0] if plain else None), message
    return None


def degrade(
    params: Mapping[str, Sequence[str]],
    done: Sequence[Degradation],
    parameter: str,
    value: str | None,
    words: str,
) -> Degradation | None:
    """The next degradation for a refused (parameter, value), given the ones already applied; None
    when there is nothing left to change (the refusal is about something this table does not
    send, or it was already tried)."""
    if len(done) >= MAX_DEGRADATIONS:
        return None
    current = apply(params, done)
    tried = {(d.parameter, d.value) for d in done}
    if value is not None and value not in current.get(parameter, ()):
        if "," not in value:
            return None  # a value this read did not send there: nothing of ours to change
        value = None  # the API quoted the whole list back: it refuses the parameter
    if parameter not in current or (parameter, value) in tried:
        return None
    options: tuple[str, ...]
    if value is None:
        options = PARAM_RESPELLINGS.get(parameter, ())
    else:
        options = VALUE_RESPELLINGS.get((parameter, value), ())
    refused_before = {f"{d.parameter}={d.value}" if d.value is not None else d.parameter for d in done}
    for option in options:
        if option not in refused_before:
            return Degradation(parameter, value, option, words)
    return Degradation(parameter, value, None, words)
