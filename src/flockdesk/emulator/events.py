"""Producers of X Activity API events: what the org account's subscriptions can hear when the world changes.

Payload shapes follow X's event-payload examples (docs.x.com/x-api/activity/event-payloads): post events
carry a Post object with `includes` (users, tweets); DM events carry `direct_message_events` and a
`users` map; follow events carry `source` and `target` users wrapped in `data`; `oauth.revoke` carries
`date_time`, `user_id`, `app_id` and an empty filter. Called by the state under its lock.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from flockdesk.emulator import render as r
from flockdesk.emulator.ids import id_time_ms
from flockdesk.emulator.model import DmEvent, Post, User

if TYPE_CHECKING:  # the state calls these functions: a runtime import would be a cycle
    from flockdesk.emulator.state import EmulatorState

POST_EVENT_FIELDS = {
    "author_id",
    "conversation_id",
    "created_at",
    "entities",
    "in_reply_to_user_id",
    "lang",
    "possibly_sensitive",
    "public_metrics",
    "referenced_tweets",
    "reply_settings",
}
POST_EVENT_EXPANSIONS = {
    "author_id",
    "in_reply_to_user_id",
    "entities.mentions.username",
    "referenced_tweets.id",
}
USER_EVENT_FIELDS = {
    "created_at",
    "description",
    "profile_image_url",
    "protected",
    "public_metrics",
    "verified",
    "verified_type",
}
APP_ID = "29820954"  # the emulated developer app's id, as `oauth.revoke` reports it


def post_event_types(state: EmulatorState, post: Post) -> list[str]:
    """The org's post events a new post causes, in X's names."""
    org = state.org
    if post.author_id == org.id:
        return ["post.create"]
    types: list[str] = []
    if post.retweeted_id is not None:
        original = state.posts.get(post.retweeted_id)
        return ["post.repost.create"] if original is not None and original.author_id == org.id else []
    if org.username.lower() in post.mentions:
        types.append("post.mention.create")
    if post.in_reply_to_user_id == org.id:
        types.append("post.reply.create")
    quoted = state.posts.get(post.quoted_id) if post.quoted_id is not None else None
    if quoted is not None and quoted.author_id == org.id:
        types.append("post.quote.create")
    return types


def emit_post(state: EmulatorState, post: Post) -> None:
    types = post_event_types(state, post)
    if not types:
        return
    payload = r.tweet_json(post, POST_EVENT_FIELDS)
    includes = r.tweet_includes(state, [post], POST_EVENT_EXPANSIONS, USER_EVENT_FIELDS, POST_EVENT_FIELDS)
    for event_type in types:
        state.activity.emit(event_type, state.org.id, payload, includes=includes or None)


def _user_data(user: User) -> dict[str, Any]:
    return {"data": r.user_json(user, USER_EVENT_FIELDS)}


def emit_dm(state: EmulatorState, dm: DmEvent) -> None:
    org = state.org
    if org.id not in (dm.sender_id, dm.recipient_id):
        return
    entities = {
        "hashtags": dm.entities.get("hashtags", []),
        "symbols": dm.entities.get("cashtags", []),
        "user_mentions": dm.entities.get("mentions", []),
        "urls": dm.entities.get("urls", []),
    }
    payload = {
        "direct_message_events": [
            {
                "type": "message_create",
                "id": str(dm.id),
                "created_timestamp": str(id_time_ms(dm.id)),
                "message_create": {
                    "target": {"recipient_id": dm.recipient_id},
                    "sender_id": dm.sender_id,
                    "message_data": {"text": dm.text, "entities": entities},
                },
            }
        ],
        "users": {
            uid: _user_data(state.users[uid])
            for uid in dict.fromkeys((dm.sender_id, dm.recipient_id))
            if uid in state.users
        },
    }
    if dm.sender_id == org.id:
        state.activity.emit("dm.sent", org.id, payload, direction="outbound")
    else:
        state.activity.emit("dm.received", org.id, payload, direction="inbound")


def emit_follow(state: EmulatorState, follower: User, follows: bool) -> None:
    payload = {"source": _user_data(follower), "target": _user_data(state.org)}
    event_type = "follow.follow" if follows else "follow.unfollow"
    state.activity.emit(event_type, state.org.id, payload, direction="inbound")


def emit_revoke(state: EmulatorState) -> None:
    payload = {
        "date_time": datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00"),
        "user_id": state.org.id,
        "app_id": APP_ID,
    }
    state.activity.emit("oauth.revoke", state.org.id, payload)
