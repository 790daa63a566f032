"""Wire shapes: field selection, expansions and list envelopes, with X's `tweet` names."""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Any

from flockdesk.emulator.model import DmEvent, Post, User

if TYPE_CHECKING:  # state.py emits activity events rendered here: a runtime import would be a cycle
    from flockdesk.emulator.state import EmulatorState

TWEET_FIELDS = {
    "article",
    "attachments",
    "author_id",
    "card_uri",
    "community_id",
    "context_annotations",
    "conversation_id",
    "created_at",
    "display_text_range",
    "edit_controls",
    "edit_history_tweet_ids",
    "entities",
    "geo",
    "id",
    "in_reply_to_user_id",
    "lang",
    "media_metadata",
    "non_public_metrics",
    "note_tweet",
    "organic_metrics",
    "possibly_sensitive",
    "promoted_metrics",
    "public_metrics",
    "referenced_tweets",
    "reply_settings",
    "scopes",
    "source",
    "suggested_source_links",
    "suggested_source_links_with_counts",
    "text",
    "username",
    "withheld",
}
POST_FIELD_ALIASES = {
    "edit_history_post_ids": "edit_history_tweet_ids",
    "referenced_posts": "referenced_tweets",
    "note_post": "note_tweet",
}
USER_FIELDS = {
    "affiliation",
    "connection_status",
    "created_at",
    "description",
    "entities",
    "id",
    "is_identity_verified",
    "location",
    "most_recent_tweet_id",
    "name",
    "parody",
    "pinned_tweet_id",
    "profile_banner_url",
    "profile_image_url",
    "protected",
    "public_metrics",
    "receives_your_dm",
    "subscription",
    "subscription_type",
    "url",
    "username",
    "verified",
    "verified_followers_count",
    "verified_type",
    "withheld",
    "most_recent_post_id",
    "pinned_post_id",
    "confirmed_email",
    "subscribes_to_you",
}
DM_FIELDS = {
    "attachments",
    "created_at",
    "dm_conversation_id",
    "entities",
    "event_type",
    "id",
    "participant_ids",
    "referenced_tweets",
    "sender_id",
    "text",
    "referenced_posts",
}
TWEET_EXPANSIONS = {
    "attachments.media_keys",
    "attachments.poll_ids",
    "author_id",
    "edit_history_tweet_ids",
    "entities.mentions.username",
    "geo.place_id",
    "in_reply_to_user_id",
    "referenced_tweets.id",
    "referenced_tweets.id.author_id",
    "entities.note.mentions.username",
    "attachments.media_source_tweet",
    "edit_history_post_ids",
    "referenced_posts.id",
    "referenced_posts.id.author_id",
    "referenced_posts",
    "username",
    "article.cover_media",
    "article.media_entities",
    "referenced_tweets.id.attachments.media_keys",
}
# expansions that exist only in OpenAPI 2.167 (a client that uses them reads the post names)
POST_ONLY_EXPANSIONS = {"referenced_posts", "edit_history_post_ids", "username"}
EXPANSION_ALIASES = {
    "referenced_posts": "referenced_tweets.id",
    "referenced_posts.id": "referenced_tweets.id",
    "referenced_posts.id.author_id": "referenced_tweets.id.author_id",
}
# asking to expand an id brings the id itself into the post (2.167's post.fields lack these names)
EXPANSION_FIELDS = {
    "author_id": "author_id",
    "in_reply_to_user_id": "in_reply_to_user_id",
    "referenced_tweets.id": "referenced_tweets",
}
USER_EXPANSIONS = {
    "pinned_tweet_id",
    "most_recent_tweet_id",
    "affiliation.user_id",
    "pinned_post_id",
    "affiliation",
    "most_recent_post_id",
}
DM_EXPANSIONS = {
    "attachments.media_keys",
    "participant_ids",
    "referenced_tweets.id",
    "sender_id",
    "referenced_posts.id",
    "referenced_posts",
}


POST_NAMES = "_post_names"


class ParamError(ValueError):
    """A query parameter is invalid; `parameter` names it."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter


def parse_list(
    params: dict[str, str],
    names: tuple[str, ...],
    allowed: set[str],
    aliases: dict[str, str] = POST_FIELD_ALIASES,
) -> set[str]:
    """The items of the named list parameters; `aliases` maps 2.167 field names to the wire names
    (fields only: the expansion `referenced_posts` is not the field `referenced_posts`)."""
    out: set[str] = set()
    for name in names:
        raw = params.get(name)
        if raw is None:
            continue
        for item in (x.strip() for x in raw.split(",")):
            if not item:
                continue
            if item not in allowed:
                raise ParamError(
                    name, f"The `{name}` query parameter value [{item}] is not one of the allowed values"
                )
            out.add(aliases.get(item, item))
    return out


def user_json(u: User, fields: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": u.id, "name": u.name, "username": u.username}
    if "description" in fields:
        out["description"] = u.description
    if "verified" in fields:
        out["verified"] = u.verified
    if "verified_type" in fields:
        out["verified_type"] = "blue" if u.verified else "none"
    if "created_at" in fields:
        out["created_at"] = u.created_at
    if "protected" in fields:
        out["protected"] = False
    if "location" in fields and u.location:
        out["location"] = u.location
    if "public_metrics" in fields:
        out["public_metrics"] = {
            "followers_count": u.followers_count,
            "following_count": u.following_count,
            "tweet_count": u.tweet_count,
            "post_count": u.tweet_count,  # the 2.167 name, which xdk's models require
            "listed_count": u.followers_count // 200,
            "like_count": 0,
        }
    if "profile_image_url" in fields:
        out["profile_image_url"] = f"https://pbs.twimg.com/profile_images/{u.id}/avatar_normal.jpg"
    if "receives_your_dm" in fields:
        out["receives_your_dm"] = True
    return out


def tweet_json(p: Post, fields: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": str(p.id), "text": p.text, "edit_history_tweet_ids": [str(p.id)]}
    if POST_NAMES in fields:  # the client asked with `post.fields` (OpenAPI 2.167, xdk): add those names too
        out["edit_history_post_ids"] = [str(p.id)]
    if "author_id" in fields:
        out["author_id"] = p.author_id
    if "conversation_id" in fields:
        out["conversation_id"] = str(p.conversation_id)
    if "created_at" in fields:
        out["created_at"] = p.created_at
    if "in_reply_to_user_id" in fields and p.in_reply_to_user_id is not None:
        out["in_reply_to_user_id"] = p.in_reply_to_user_id
    if "referenced_tweets" in fields and p.referenced:
        out["referenced_tweets"] = p.referenced
        if POST_NAMES in fields:
            out["referenced_posts"] = p.referenced
    if "entities" in fields and p.entities:
        out["entities"] = p.entities
    if "lang" in fields:
        out["lang"] = "en"
    if "possibly_sensitive" in fields:
        out["possibly_sensitive"] = False
    if "reply_settings" in fields:
        out["reply_settings"] = "everyone"
    if "public_metrics" in fields:
        out["public_metrics"] = {
            "retweet_count": 0,
            "reply_count": 0,
            "like_count": 0,
            "quote_count": 0,
            "bookmark_count": 0,
            "impression_count": 0,
        }
    return out


def dm_json(e: DmEvent, fields: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": str(e.id), "event_type": "MessageCreate", "text": e.text}
    if "sender_id" in fields:
        out["sender_id"] = e.sender_id
    if "dm_conversation_id" in fields:
        out["dm_conversation_id"] = e.dm_conversation_id
    if "created_at" in fields:
        out["created_at"] = e.created_at
    if "entities" in fields:
        out.update(e.entities)  # DM entity arrays sit at the top level
    return out


def tweet_includes(
    state: EmulatorState,
    posts: list[Post],
    expansions: set[str],
    user_fields: set[str],
    tweet_fields: set[str],
) -> dict[str, Any]:
    user_ids: list[str] = []
    ref_posts: list[Post] = []
    for p in posts:
        if "author_id" in expansions:
            user_ids.append(p.author_id)
        if "in_reply_to_user_id" in expansions and p.in_reply_to_user_id:
            user_ids.append(p.in_reply_to_user_id)
        if "entities.mentions.username" in expansions:
            user_ids.extend(m["id"] for m in p.entities.get("mentions", []) if "id" in m)
        if expansions & {"referenced_tweets.id", "referenced_tweets.id.author_id"}:
            for ref in p.referenced:
                rp = state.posts.get(int(ref["id"]))
                if rp is not None:
                    ref_posts.append(rp)
                    if "referenced_tweets.id.author_id" in expansions:
                        user_ids.append(rp.author_id)
    includes: dict[str, Any] = {}
    users = [state.users[u] for u in dict.fromkeys(user_ids) if u in state.users]
    if users:
        includes["users"] = [user_json(u, user_fields) for u in users]
    if ref_posts and "referenced_tweets.id" in expansions:
        seen = {rp.id: rp for rp in ref_posts}
        includes["tweets"] = [tweet_json(rp, tweet_fields) for rp in seen.values()]
        if POST_NAMES in tweet_fields:  # OpenAPI 2.167 names the expanded posts `posts`
            includes["posts"] = includes["tweets"]
    return includes


def dm_includes(
    state: EmulatorState, events: list[DmEvent], expansions: set[str], user_fields: set[str]
) -> dict[str, Any]:
    ids: list[str] = []
    for e in events:
        if "sender_id" in expansions:
            ids.append(e.sender_id)
        if "participant_ids" in expansions:
            ids.extend((e.sender_id, e.recipient_id))
    users = [state.users[u] for u in dict.fromkeys(ids) if u in state.users]
    return {"users": [user_json(u, user_fields) for u in users]} if users else {}


def encode_token(kind: str, anchor: int) -> str:
    raw = f"{kind}:{anchor}".encode()
    return base64.b32hexencode(raw).decode().rstrip("=").lower()


def decode_token(kind: str, token: str, parameter: str) -> int:
    try:
        padded = token.upper() + "=" * (-len(token) % 8)
        got_kind, _, anchor = base64.b32hexdecode(padded).decode().partition(":")
        if got_kind != kind:
            raise ValueError(kind)
        return int(anchor)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise ParamError(
            parameter, f"The `{parameter}` query parameter value [{token}] is not a valid token"
        ) from exc
