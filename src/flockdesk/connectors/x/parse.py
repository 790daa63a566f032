"""Pure functions turning X API v2 JSON into Flockdesk's own types.

Nothing here does I/O. A malformed item never raises: it becomes a DeadLetter with the reason, and
the rest of the page is kept. So does an item the store cannot hold (domain/limits.py: nested too
deep, or its JSON over MAX_RAW_BYTES); text over MAX_TEXT_CHARS is truncated, and a dead letter says so. Both the documented wire names (`referenced_tweets`, `note_tweet`) and
the OpenAPI 2.167 names (`referenced_posts`, `note_post`) are accepted.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from flockdesk.domain.limits import MAX_NESTING, MAX_RAW_BYTES, MAX_TEXT_CHARS
from flockdesk.domain.types import (
    Author,
    DeadLetter,
    Engagement,
    InboundItem,
    Link,
    Media,
    MediaKind,
    Page,
)
from flockdesk.domain.vocabulary import Channel, MessageKind

PLATFORM = "x"
MAX_DEAD_PAYLOAD = 100_000
DM_ENTITY_KEYS = ("hashtags", "mentions", "urls", "cashtags")
MEDIA_KINDS: dict[str, MediaKind] = {"photo": "photo", "video": "video", "animated_gif": "gif"}
MAX_MEDIA = 10
MAX_LINKS = 20


class _Malformed(ValueError):
    """Raised inside this module only; turned into a DeadLetter."""


def _pruned(obj: Any, depth: int) -> Any:
    """The object down to `depth` levels; deeper values are replaced by a marker string."""
    if depth <= 0:
        return "<nested too deep: not kept>" if isinstance(obj, dict | list) else obj
    if isinstance(obj, dict):
        return {str(k): _pruned(v, depth - 1) for k, v in list(obj.items())[:1000]}
    if isinstance(obj, list):
        return [_pruned(v, depth - 1) for v in obj[:1000]]
    if isinstance(obj, str) and len(obj) > MAX_DEAD_PAYLOAD:
        return obj[:MAX_DEAD_PAYLOAD]
    return obj


def dump_payload(obj: Any) -> str:
    """A JSON string for a dead letter's payload (never fails, bounded in size)."""
    try:
        text = orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS).decode()
    except (TypeError, orjson.JSONEncodeError):  # nested too deep, or not JSON at all
        try:
            text = orjson.dumps(_pruned(obj, 20), option=orjson.OPT_NON_STR_KEYS).decode()
        except (TypeError, orjson.JSONEncodeError):
            text = repr(type(obj))
    return text[:MAX_DEAD_PAYLOAD]


# orjson refuses to encode past 254 levels; wrapping the item in (254 - MAX_NESTING) arrays makes that
# same C check enforce MAX_NESTING, and the one encoding gives the size as well.
_WRAP = 254 - MAX_NESTING


def _unstorable(obj: Any) -> str | None:
    """Why the store cannot keep this item's JSON (None when it can)."""
    wrapped = obj
    for _ in range(_WRAP):
        wrapped = (wrapped,)
    try:
        size = len(orjson.dumps(wrapped, option=orjson.OPT_NON_STR_KEYS)) - 2 * _WRAP
    except (TypeError, orjson.JSONEncodeError):
        return f"nested deeper than {MAX_NESTING} levels"
    if size > MAX_RAW_BYTES:
        return f"its JSON is {size:,} bytes, over the {MAX_RAW_BYTES:,}-byte limit per item"
    return None


def _capped(obj: dict[str, Any]) -> tuple[dict[str, Any], int | None]:
    """The item with its text (and long-post text) cut to MAX_TEXT_CHARS, and the original length
    when it was cut (None when nothing was)."""
    longest: int | None = None
    out = obj
    for key in ("text", "note_tweet", "note_post"):
        value = obj.get(key)
        inner = value.get("text") if key != "text" and isinstance(value, dict) else value
        if isinstance(inner, str) and len(inner) > MAX_TEXT_CHARS:
            longest = max(longest or 0, len(inner))
            cut = inner[:MAX_TEXT_CHARS]
            out = {**out, key: cut if key == "text" else {**value, "text": cut}}  # type: ignore[dict-item]
    return out, longest


def _admit(obj: Any, origin: str, dead: list[DeadLetter]) -> Any | None:
    """The item as it may be stored, or None when it cannot be (a dead letter says why)."""
    if not isinstance(obj, dict):
        return obj  # the parser names the wrong shape
    return _admit_capped(*_capped(obj), origin, dead)


def _admit_capped(
    obj: dict[str, Any],
    full_length: int | None,
    origin: str,
    dead: list[DeadLetter],
    *,
    page_storable: bool = False,
) -> Any | None:
    """`_admit` of an item `_capped` already cut. page_storable: the whole page it came from passed
    `_unstorable`, so this item does too (its JSON is a part of the page's, and nests less deeply);
    checking each item again would encode it again."""
    reason = None if page_storable else _unstorable(obj)
    if reason is not None:
        dead.append(DeadLetter(origin, f"item not stored: {reason}", dump_payload(obj)))
        return None
    if full_length is not None:
        dead.append(
            DeadLetter(
                origin,
                f"text of {full_length:,} characters stored truncated to {MAX_TEXT_CHARS:,}",
                dump_payload(obj),
            )
        )
    return obj


def _admit_page(payload: Any, data: list[Any], origin: str, dead: list[DeadLetter]) -> tuple[list[Any], bool]:
    """`_admit` of every item of a page: (the items to parse, whether the whole page is storable).

    The whole page is checked once when it can be: when it passes `_unstorable` so does every item and
    user in it, one encoding per page instead of one per item. Not when an item's text is cut: the
    page would be encoded with the uncut text (a 50 MB post), which the item check never encodes."""
    capped = [_capped(d) if isinstance(d, dict) else (d, None) for d in data]
    storable = all(cut is None for _, cut in capped) and _unstorable(payload) is None
    admitted = []
    for obj, cut in capped:
        if isinstance(obj, dict):
            obj = _admit_capped(obj, cut, origin, dead, page_storable=storable)
            if obj is None:
                continue
        admitted.append(obj)
    return admitted, storable


def parse_time(value: Any) -> datetime:
    """X timestamps ("2021-01-06T18:40:40.000Z") as aware UTC datetimes."""
    if not isinstance(value, str):
        raise _Malformed(f"created_at must be a string, got {type(value).__name__}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise _Malformed(f"created_at is not an ISO 8601 time: {value!r}") from exc
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _id(obj: Mapping[str, Any], key: str, *, required: bool = True) -> str | None:
    value = obj.get(key)
    if type(value) is str and 0 < len(value) <= 64:  # the common case, first
        return value
    if value is None:
        if required:
            raise _Malformed(f"missing {key}")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _Malformed(f"{key} must be a string id, got {type(value).__name__}")
    text = str(value)
    if not text or len(text) > 64:
        raise _Malformed(f"{key} is empty or too long")
    return text


def _clean(text: str) -> str:
    """NUL cannot be stored in a PostgreSQL text column; it never carries meaning in a post."""
    return text.replace("\x00", "") if "\x00" in text else text


def _text(obj: Mapping[str, Any]) -> str:
    note = obj.get("note_tweet") or obj.get("note_post")
    if isinstance(note, dict) and isinstance(note.get("text"), str):
        return _clean(note["text"])
    text = obj.get("text")
    if text is None:
        raise _Malformed("missing text")
    if not isinstance(text, str):
        raise _Malformed(f"text must be a string, got {type(text).__name__}")
    return _clean(text)


def _referenced(tweet: Mapping[str, Any]) -> list[dict[str, Any]]:
    refs = tweet.get("referenced_tweets", tweet.get("referenced_posts"))
    if refs is None:
        return []
    if not isinstance(refs, list) or not all(isinstance(r, dict) for r in refs):
        raise _Malformed("referenced_tweets must be a list of objects")
    return refs


def is_retweet(item: InboundItem) -> bool:
    """True when the item is a plain retweet (repost) of another post."""
    raw = item.raw or {}
    try:
        return any(r.get("type") == "retweeted" for r in _referenced(raw))
    except _Malformed:
        return False


def parse_author(user: Any) -> Author | None:
    """A contact's profile snapshot from an X user object (None when unusable)."""
    if not isinstance(user, dict):
        return None
    uid = user.get("id")
    if not isinstance(uid, str | int) or isinstance(uid, bool):
        return None
    metrics = user.get("public_metrics")
    followers = metrics.get("followers_count", 0) if isinstance(metrics, dict) else 0
    if not isinstance(followers, int) or isinstance(followers, bool):
        followers = 0
    verified_type = user.get("verified_type")
    verified = user.get("verified") is True or verified_type in ("blue", "business", "government")

    def s(key: str) -> str:
        value = user.get(key)
        return _clean(value) if isinstance(value, str) else ""

    return Author(
        platform=PLATFORM,
        external_id=str(uid),
        username=s("username")[:64],
        name=s("name"),
        bio=s("description"),
        followers_count=followers,
        verified=verified,
        profile=user,
    )


class _Users(dict[str, dict[str, Any]]):
    """A page's includes.users by id, with each user's Author parsed once per page."""

    def __init__(self, users: dict[str, dict[str, Any]]) -> None:
        super().__init__(users)
        self.authors: dict[str, Author | None] = {}


def _author(users: Mapping[str, dict[str, Any]], user_id: str) -> Author | None:
    if isinstance(users, _Users):
        if user_id not in users.authors:
            users.authors[user_id] = parse_author(users.get(user_id))
        return users.authors[user_id]
    return parse_author(users.get(user_id))


def _users(payload: Mapping[str, Any], *, page_storable: bool = False) -> dict[str, dict[str, Any]]:
    includes = payload.get("includes")
    users = includes.get("users") if isinstance(includes, dict) else None
    if not isinstance(users, list):
        return _Users({})
    return _Users(
        {
            str(u["id"]): u
            for u in users
            if isinstance(u, dict)
            and isinstance(u.get("id"), str | int)
            and (page_storable or _unstorable(u) is None)
        }
    )


def _mentions_user(tweet: Mapping[str, Any], user_id: str) -> bool:
    if tweet.get("in_reply_to_user_id") == user_id:
        return True
    entities = tweet.get("entities")
    mentions = entities.get("mentions") if isinstance(entities, dict) else None
    if isinstance(mentions, list):
        return any(isinstance(m, dict) and m.get("id") == user_id for m in mentions)
    return False


def _mentioned(tweet: Mapping[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The user ids and lower-cased handles a post's `entities.mentions` tags."""
    entities = tweet.get("entities")
    mentions = entities.get("mentions") if isinstance(entities, dict) else None
    ids: list[str] = []
    handles: list[str] = []
    for m in mentions if isinstance(mentions, list) else []:
        if not isinstance(m, dict):
            continue
        uid = m.get("id")
        if isinstance(uid, str | int) and not isinstance(uid, bool) and str(uid) not in ids:
            ids.append(str(uid))
        name = m.get("username")
        if isinstance(name, str) and name and name.lower() not in handles:
            handles.append(name.lower()[:64])
    return tuple(ids[:50]), tuple(handles[:50])


def _posts_index(payload: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """A page's includes.tweets (includes.posts in spec 2.167) by id: the quoted posts, when expanded."""
    includes = payload.get("includes")
    if not isinstance(includes, dict):
        return {}
    found = includes.get("tweets", includes.get("posts"))
    if not isinstance(found, list):
        return {}
    return {str(p["id"]): p for p in found if isinstance(p, dict) and isinstance(p.get("id"), str | int)}


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def engagement(obj: Mapping[str, Any]) -> Engagement | None:
    """A post's `public_metrics` (impressions from `impression_count` when X gave it)."""
    metrics = obj.get("public_metrics")
    if not isinstance(metrics, dict):
        return None
    impressions = metrics.get("impression_count")
    return Engagement(
        likes=_count(metrics.get("like_count")),
        reposts=_count(metrics.get("retweet_count", metrics.get("repost_count"))),
        replies=_count(metrics.get("reply_count")),
        quotes=_count(metrics.get("quote_count")),
        impressions=_count(impressions) if impressions is not None else None,
    )


def _media_index(payload: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """A page's includes.media by media_key."""
    includes = payload.get("includes")
    media = includes.get("media") if isinstance(includes, dict) else None
    if not isinstance(media, list):
        return {}
    return {m["media_key"]: m for m in media if isinstance(m, dict) and isinstance(m.get("media_key"), str)}


def _entity_urls(obj: Mapping[str, Any]) -> list[dict[str, Any]]:
    entities = obj.get("entities")
    urls = entities.get("urls") if isinstance(entities, dict) else obj.get("urls")
    return [u for u in urls if isinstance(u, dict)] if isinstance(urls, list) else []


def _opt_str(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _size(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def media_and_links(
    obj: Mapping[str, Any], includes_media: Mapping[str, dict[str, Any]]
) -> tuple[tuple[Media, ...], tuple[Link, ...]]:
    """A post's or DM's media (photos, videos, GIFs, in its own order) and the other links in its text.

    X names media in `attachments.media_keys` and describes them in the page's `includes.media`
    (twarc2's flattened output puts them inline as `attachments.media`); each media item also appears
    in `entities.urls` with its `media_key` and the `expanded_url` of its page on X."""
    att = obj.get("attachments")
    urls = _entity_urls(obj)
    if not urls and not att:
        return (), ()  # most posts: nothing to look up
    att = att if isinstance(att, dict) else {}
    inline = att.get("media")
    by_key = dict(includes_media)
    inline_keys = []
    for m in inline if isinstance(inline, list) else []:
        if isinstance(m, dict) and isinstance(m.get("media_key"), str):
            by_key[m["media_key"]] = m
            inline_keys.append(m["media_key"])
    media_pages = {u["media_key"]: u for u in urls if isinstance(u.get("media_key"), str)}
    keys = att.get("media_keys")
    ordered = [k for k in keys if isinstance(k, str)] if isinstance(keys, list) else []
    if not ordered:
        ordered = inline_keys or list(media_pages)
    media: list[Media] = []
    seen: set[str] = set()
    for key in ordered:
        if key in seen or len(media) >= MAX_MEDIA:
            continue
        seen.add(key)
        item = by_key.get(key, {})
        page = media_pages.get(key, {})
        preview = _opt_str(item.get("preview_image_url"))
        url = _opt_str(item.get("url")) or _opt_str(page.get("expanded_url"))
        if url is None and preview is None:
            continue
        media.append(
            Media(
                kind=MEDIA_KINDS.get(str(item.get("type", "")), "other"),
                url=url,
                preview_url=preview,
                alt_text=_opt_str(item.get("alt_text")),
                width=_size(item.get("width")),
                height=_size(item.get("height")),
            )
        )
    found: list[Link] = []
    seen_urls: set[str] = set()
    for u in urls:
        if isinstance(u.get("media_key"), str) or len(found) >= MAX_LINKS:
            continue
        url = _opt_str(u.get("expanded_url")) or _opt_str(u.get("url"))
        if url is None or url in seen_urls:
            continue
        seen_urls.add(url)
        found.append(Link(url, _opt_str(u.get("display_url")) or ""))
    return tuple(media), tuple(found)


def parse_tweet(
    tweet: Any,
    users: Mapping[str, dict[str, Any]],
    *,
    channel: Channel | None,
    org_user_id: str | None,
    includes_media: Mapping[str, dict[str, Any]] | None = None,
    includes_posts: Mapping[str, dict[str, Any]] | None = None,
) -> InboundItem:
    """One tweet object as an InboundItem; raises _Malformed (module-internal) when unusable.

    channel None means "decide": a post that mentions or answers the organisation is a mention,
    anything else is a search (listening) hit. includes_media: the page's `includes.media` by key;
    includes_posts: its `includes.tweets` by id (whose post a quote quotes).
    """
    if not isinstance(tweet, dict):
        raise _Malformed(f"a post must be an object, got {type(tweet).__name__}")
    tid = _id(tweet, "id")
    assert tid is not None
    text = _text(tweet)
    author_id = _id(tweet, "author_id", required=False)
    embedded = tweet.get("author")  # twarc2 "flattened" output expands the author in place
    if author_id is None and isinstance(embedded, dict) and embedded.get("id") is not None:
        author_id = _id(embedded, "id")
    if author_id is None:
        raise _Malformed("missing author_id (request expansions=author_id)")
    created_raw = tweet.get("created_at")
    created_at = parse_time(created_raw) if created_raw is not None else datetime.now(UTC)
    refs = _referenced(tweet)
    in_reply_to = None
    quoted = None
    for ref in refs:
        if ref.get("type") == "replied_to" and in_reply_to is None:
            in_reply_to = _id(ref, "id")
        elif ref.get("type") == "quoted" and quoted is None:
            quoted = _id(ref, "id")
    quoted_post = (includes_posts or {}).get(quoted) if quoted else None
    quoted_author = _id(quoted_post, "author_id", required=False) if isinstance(quoted_post, dict) else None
    mentioned_ids, mentioned_handles = _mentioned(tweet)
    thread_id = _id(tweet, "conversation_id", required=False) or tid
    if channel is None:
        channel = "mention" if org_user_id and _mentions_user(tweet, org_user_id) else "search"
    if channel == "dm":
        raise ValueError("posts are never parsed on the dm channel")
    kind: MessageKind = "reply" if in_reply_to else channel
    author = parse_author(embedded) if isinstance(embedded, dict) else _author(users, author_id)
    entities = tweet.get("entities")
    reply_user = _id(tweet, "in_reply_to_user_id", required=False)
    media, found_links = media_and_links(tweet, includes_media or {})
    return InboundItem(
        platform=PLATFORM,
        external_id=tid,
        kind=kind,
        thread_kind="public",
        thread_id=thread_id,
        channel=channel,
        author_id=author_id,
        text=text,
        created_at=created_at,
        author=author,
        entities=entities if isinstance(entities, dict) else None,
        in_reply_to_external_id=in_reply_to,
        in_reply_to_user_id=reply_user,
        engagement=engagement(tweet),
        media=media,
        links=found_links,
        mentioned_ids=mentioned_ids,
        mentioned_handles=mentioned_handles,
        quoted_post_id=quoted,
        quoted_author_id=quoted_author,
        raw=tweet,
    )


def _max_id(ids: list[str]) -> str | None:
    numeric = [i for i in ids if i.isdigit()]
    return max(numeric, key=lambda i: (len(i), i)) if numeric else None


def _data_list(payload: Any) -> list[Any]:
    if not isinstance(payload, dict):
        raise _Malformed(f"a page must be an object, got {type(payload).__name__}")
    data = payload.get("data")
    if data is None:
        return []
    if isinstance(data, dict):  # filtered-stream lines carry a single object
        return [data]
    if not isinstance(data, list):
        raise _Malformed(f"data must be a list, got {type(data).__name__}")
    return data


def _next_token(payload: Any) -> str | None:
    meta = payload.get("meta") if isinstance(payload, dict) else None
    token = meta.get("next_token") if isinstance(meta, dict) else None
    return token if isinstance(token, str) and token else None


def _tweet_page(payload: Any, *, channel: Channel | None, org_user_id: str | None, origin: str) -> Page:
    page = Page()
    try:
        data = _data_list(payload)
    except _Malformed as exc:
        page.dead.append(DeadLetter(origin=origin, reason=str(exc), payload=dump_payload(payload)))
        return page
    data, storable = _admit_page(payload, data, origin, page.dead)
    users = _users(payload, page_storable=storable)
    media = _media_index(payload)
    posts = _posts_index(payload)
    for tweet in data:
        try:
            page.items.append(
                parse_tweet(
                    tweet,
                    users,
                    channel=channel,
                    org_user_id=org_user_id,
                    includes_media=media,
                    includes_posts=posts,
                )
            )
        except _Malformed as exc:
            page.dead.append(DeadLetter(origin=origin, reason=str(exc), payload=dump_payload(tweet)))
    page.next_token = _next_token(payload)
    meta = payload.get("meta")
    newest = meta.get("newest_id") if isinstance(meta, dict) else None
    page.newest_id = newest if isinstance(newest, str) else _max_id([i.external_id for i in page.items])
    return page


def parse_tweet_page(payload: dict[str, Any], *, channel: Channel, org_user_id: str | None) -> Page:
    """A mentions-timeline or recent-search response page (channel "mention" or "search")."""
    return _tweet_page(payload, channel=channel, org_user_id=org_user_id, origin=f"x:{channel}")


def parse_own_posts_page(payload: dict[str, Any], *, org_user_id: str | None) -> Page:
    """A page of the account's own timeline (GET /2/users/:id/tweets)."""
    return _tweet_page(payload, channel=None, org_user_id=org_user_id, origin="x:own_posts")


def _dm_entities(event: Mapping[str, Any]) -> dict[str, Any] | None:
    found = {k: event[k] for k in DM_ENTITY_KEYS if isinstance(event.get(k), list)}
    if isinstance(event.get("entities"), dict):
        found = {**event["entities"], **found}
    return found or None


def other_participant(dm_conversation_id: str, user_id: str) -> str | None:
    """For a 1:1 conversation id "{a}-{b}", the participant who is not user_id."""
    parts = dm_conversation_id.split("-")
    if len(parts) != 2:
        return None  # a group conversation: no single recipient
    a, b = parts
    if a == user_id:
        return b
    if b == user_id:
        return a
    return None


def parse_dm_event(
    event: Any,
    users: Mapping[str, dict[str, Any]],
    *,
    org_user_id: str | None,
    includes_media: Mapping[str, dict[str, Any]] | None = None,
) -> InboundItem | None:
    """A MessageCreate event as an InboundItem; None for ParticipantsJoin/Leave."""
    if not isinstance(event, dict):
        raise _Malformed(f"a DM event must be an object, got {type(event).__name__}")
    event_type = event.get("event_type")
    if event_type in ("ParticipantsJoin", "ParticipantsLeave"):
        return None
    if event_type != "MessageCreate":
        raise _Malformed(f"unknown DM event_type {event_type!r}")
    eid = _id(event, "id")
    assert eid is not None
    text = _text(event)
    sender = _id(event, "sender_id")
    assert sender is not None
    conv = _id(event, "dm_conversation_id")
    assert conv is not None
    created_raw = event.get("created_at")
    created_at = parse_time(created_raw) if created_raw is not None else datetime.now(UTC)
    recipient = other_participant(conv, sender) if org_user_id and sender == org_user_id else None
    media, found_links = media_and_links(event, includes_media or {})
    return InboundItem(
        platform=PLATFORM,
        external_id=eid,
        kind="dm",
        thread_kind="dm",
        thread_id=conv,
        channel="dm",
        author_id=sender,
        text=text,
        created_at=created_at,
        author=_author(users, sender),
        entities=_dm_entities(event),
        recipient_id=recipient,
        media=media,
        links=found_links,
        raw=event,
    )


def parse_dm_page(payload: dict[str, Any], *, org_user_id: str | None, origin: str = "x:dms") -> Page:
    """A /2/dm_events response page: MessageCreate events become DM items; Join/Leave are ignored."""
    page = Page()
    try:
        data = _data_list(payload)
    except _Malformed as exc:
        page.dead.append(DeadLetter(origin=origin, reason=str(exc), payload=dump_payload(payload)))
        return page
    data, storable = _admit_page(payload, data, origin, page.dead)
    users = _users(payload, page_storable=storable)
    media = _media_index(payload)
    ids: list[str] = []
    for event in data:
        try:
            item = parse_dm_event(event, users, org_user_id=org_user_id, includes_media=media)
        except _Malformed as exc:
            page.dead.append(DeadLetter(origin=origin, reason=str(exc), payload=dump_payload(event)))
            continue
        if isinstance(event, dict) and isinstance(event.get("id"), str):
            ids.append(event["id"])
        if item is not None:
            page.items.append(item)
    page.next_token = _next_token(payload)
    page.newest_id = _max_id(ids)
    return page


def _looks_like_dm_page(data: list[Any]) -> bool:
    return any(isinstance(e, dict) and "event_type" in e for e in data)


def iter_items_from_jsonl_line(
    obj: Any, *, org_user_id: str | None = None, origin: str = "import"
) -> Iterator[InboundItem | DeadLetter]:
    """Everything in one decoded JSONL line or JSON document, as items and dead letters.

    Accepts an X API v2 response page (`data` list or object + `includes`, as twarc2 writes), a
    DM events page, a twarc2-flattened post (author expanded under `author`), or a single post or DM
    event. Posts that mention or answer org_user_id are mentions; the rest are search hits.
    """
    if isinstance(obj, list):  # a JSON array of pages or posts
        for element in obj:
            if isinstance(element, list):  # not a shape X writes; recursing could go 1,000 levels deep
                yield DeadLetter(
                    origin, "expected a page, post or DM event, got an array", dump_payload(element)
                )
                continue
            yield from iter_items_from_jsonl_line(element, org_user_id=org_user_id, origin=origin)
        return
    if not isinstance(obj, dict):
        yield DeadLetter(origin, f"expected a JSON object, got {type(obj).__name__}", dump_payload(obj))
        return
    if "data" in obj:
        data = obj["data"]
        if (
            isinstance(data, list)
            and _looks_like_dm_page(data)
            or isinstance(data, dict)
            and "event_type" in data
        ):
            page = parse_dm_page(obj, org_user_id=org_user_id, origin=origin)
        else:
            page = _tweet_page(obj, channel=None, org_user_id=org_user_id, origin=origin)
        yield from page.items
        yield from page.dead
        return
    if "event_type" in obj:
        page = parse_dm_page({"data": [obj]}, org_user_id=org_user_id, origin=origin)
        yield from page.items
        yield from page.dead
        return
    if "id" in obj and ("text" in obj or "author" in obj or "author_id" in obj):
        dead: list[DeadLetter] = []
        admitted = _admit(obj, origin, dead)
        yield from dead
        if admitted is None:
            return
        try:
            yield parse_tweet(admitted, {}, channel=None, org_user_id=org_user_id)
        except _Malformed as exc:
            yield DeadLetter(origin, str(exc), dump_payload(admitted))
        return
    if "errors" in obj:
        yield DeadLetter(origin, "an error response without data", dump_payload(obj))
        return
    if set(obj) <= {"meta", "__twarc"}:
        return  # an empty page: nothing to store
    yield DeadLetter(origin, "not an X API v2 page, post or DM event", dump_payload(obj))
