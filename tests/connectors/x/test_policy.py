"""X's rules for apps as decisions (connectors/x/policy.py, reference x-2026.md §1)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from flockdesk.connectors import registry
from flockdesk.domain.policy import Facts

X = registry.profile("x")


def test_a_reply_to_a_post_that_summoned_the_account_goes_through_the_api() -> None:
    assert X.decide("public_reply", Facts(target_post_id="1", summoned=True)).allowed


def test_a_reply_to_any_other_post_needs_a_person_with_the_reply_intent() -> None:
    d = X.decide(
        "public_reply", Facts(target_post_id="42", summoned=False, text="Sorry to hear & we'll help")
    )
    assert (d.verdict, d.reason) == ("needs_person", "not_summoned")
    assert "mention the account" in d.message
    assert d.native_link is not None
    url = urlparse(d.native_link)
    assert (url.scheme, url.netloc, url.path) == ("https", "x.com", "/intent/post")
    assert parse_qs(url.query) == {"in_reply_to": ["42"], "text": ["Sorry to hear & we'll help"]}


def test_the_move_to_dm_acknowledgement_follows_the_same_rule() -> None:
    assert X.decide("public_ack", Facts(target_post_id="1", summoned=True)).allowed
    assert X.decide("public_ack", Facts(target_post_id="1", summoned=False)).verdict == "needs_person"


def test_an_automation_never_replies_to_a_post_that_did_not_summon_the_account() -> None:
    d = X.decide("public_reply", Facts(target_post_id="1", summoned=False, origin="automated"))
    assert d.verdict == "forbidden" and d.native_link is None


def test_a_dm_only_to_someone_who_dmed_first() -> None:
    assert X.decide("dm", Facts(recipient_id="7", customer_started_dm=True)).allowed
    d = X.decide("dm", Facts(recipient_id="7", customer_started_dm=False, text="hi there"))
    assert (d.verdict, d.reason) == ("needs_person", "dm_not_started")
    assert d.native_link == "https://x.com/messages/compose?recipient_id=7&text=hi+there"
    auto = X.decide("dm", Facts(recipient_id="7", customer_started_dm=False, origin="automated"))
    assert auto.verdict == "forbidden"


def test_an_opt_out_ends_dms_except_its_acknowledgement_and_answers_to_new_messages() -> None:
    opted = Facts(recipient_id="7", customer_started_dm=True, opted_out=True)
    assert X.decide("dm", opted).reason == "opted_out"
    assert X.decide("outreach_dm", opted).reason == "opted_out"
    ack = Facts(
        recipient_id="7", customer_started_dm=True, opted_out=True, opt_out_ack=True, origin="automated"
    )
    assert X.decide("dm", ack).allowed
    wrote_again = Facts(recipient_id="7", customer_started_dm=True, opted_out=True, wrote_after_opt_out=True)
    assert X.decide("dm", wrote_again).allowed
    assert X.decide("outreach_dm", wrote_again).verdict == "forbidden"


def test_automations_answer_an_interaction_at_most_once_and_never_post_unreviewed_ai_text() -> None:
    first = Facts(target_post_id="1", summoned=True, origin="automated")
    assert X.decide("public_reply", first).allowed
    again = Facts(target_post_id="1", summoned=True, origin="automated", automated_replies_before=1)
    assert X.decide("public_reply", again).reason == "automated_repeat"
    ai = Facts(target_post_id="1", summoned=True, origin="ai_draft", by_person=False)
    assert X.decide("public_reply", ai).reason == "ai_unreviewed"
    reviewed = Facts(target_post_id="1", summoned=True, origin="ai_draft", by_person=True)
    assert X.decide("public_reply", reviewed).allowed
    bulk = Facts(recipient_id="7", customer_started_dm=True, origin="automated")
    assert X.decide("outreach_dm", bulk).reason == "automated_outreach"


@pytest.mark.parametrize("action", ["like", "follow", "quote_post"])
def test_likes_follows_and_quote_posts_are_never_offered(action: str) -> None:
    d = X.decide(action, Facts(summoned=True, customer_started_dm=True))  # type: ignore[arg-type]
    assert (d.verdict, d.reason) == ("forbidden", "engagement_removed")


def test_links_to_x() -> None:
    assert X.post_url("123") == "https://x.com/i/web/status/123"
    assert X.profile_url("@SkywardAir") == "https://x.com/SkywardAir"
    assert X.profile_url("a/b?c") == "https://x.com/a%2Fb%3Fc"
