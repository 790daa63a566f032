"""X's rules as one object (connectors.base.PlatformProfile): what services need to know about X
without a token. The registry hands it out for platform "x"."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from flockdesk.connectors.base import EndpointPacing, TokenSet
from flockdesk.connectors.x import limits, links, parse, policy, pricing, query
from flockdesk.domain.policy import Action, Decision, Facts
from flockdesk.domain.types import DeadLetter, InboundItem

# X prepends the @handles of a thread's participants to a reply; a handle is 1-15 word characters.
_LEADING_MENTIONS = re.compile(r"^(?:\s*@\w{1,15})+\s*")


class XProfile:
    name = "x"
    display_name = "X"
    max_query_length = query.MAX_QUERY_LEN

    # ---- links and ids --------------------------------------------------------------------------

    def dm_deep_link(self, recipient_id: str) -> str:
        return links.dm_deep_link(recipient_id)

    def dm_thread_id(self, a: str, b: str) -> str:
        return links.dm_thread_id(a, b)

    def post_url(self, post_id: str) -> str:
        return links.post_url(post_id)

    def profile_url(self, username: str) -> str:
        return links.profile_url(username)

    def reply_intent_link(self, post_id: str, text: str) -> str:
        return links.reply_intent_link(post_id, text)

    def dm_compose_link(self, recipient_id: str, text: str) -> str:
        return links.dm_compose_link(recipient_id, text)

    # ---- X's rules for apps (connectors/x/policy.py) ---------------------------------------------

    def decide(self, action: Action, facts: Facts) -> Decision:
        return policy.decide(action, facts)

    def compare_ids(self, a: str, b: str) -> int:
        return links.compare_ids(a, b)

    def strip_leading_mentions(self, text: str) -> str:
        return _LEADING_MENTIONS.sub("", text)

    # ---- pricing and pacing ---------------------------------------------------------------------

    def call_cost(self, endpoint: str, items: int, *, has_url: bool = False, reply: bool = False) -> float:
        return pricing.call_cost(endpoint, items, has_url=has_url, reply=reply)

    def resource_cost(self, endpoint: str, resource: str) -> float:
        return pricing.resource_cost(endpoint, resource)

    def search_item_cost(self) -> float:
        return pricing.UNIT_PRICES["post_read"]

    def pacing(self, endpoint: str) -> EndpointPacing:
        return limits.pacing(endpoint)

    # ---- listening queries, archives, tokens ----------------------------------------------------

    def normalise_query(self, query_text: str, *, include_reposts: bool = False) -> str:
        return query.normalise_query(query_text, include_reposts=include_reposts)

    def without_mentions_of(self, query_text: str, username: str) -> str:
        return query.without_mentions_of(query_text, username)

    def iter_archive_items(
        self, obj: Any, *, org_user_id: str | None = None, origin: str = "import"
    ) -> Iterator[InboundItem | DeadLetter]:
        return parse.iter_items_from_jsonl_line(obj, org_user_id=org_user_id, origin=origin)

    def refresh_access_token(
        self, base_url: str, refresh_token: str, *, client_id: str | None, timeout_s: float = 10.0
    ) -> TokenSet:
        # imported when a token is refreshed, not with the profile: its httpx (which loads its
        # command-line extras too) is a large share of the start-up of `flockdesk import` and the worker
        from flockdesk.connectors.x import oauth

        return oauth.refresh_access_token(base_url, refresh_token, client_id=client_id, timeout_s=timeout_s)


PROFILE = XProfile()
