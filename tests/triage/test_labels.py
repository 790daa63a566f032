"""Sentiment, intent, urgency, influence: one test per label, with hard cases."""

from __future__ import annotations

import pytest

from flockdesk.triage import triage_message
from flockdesk.triage.sentiment import sentiment


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Thank you so much, the new app is brilliant!", "positive"),
        ("worst service ever 😡", "negative"),
        ("not bad at all, quite happy 👍", "positive"),  # negation of a negative
        ("not happy with this at all", "negative"),  # negation of a positive
        ("Oh great, another delay. Just what I needed #sarcasm", "negative"),  # sarcasm
        ("I love it when my flight gets cancelled", "negative"),  # sarcasm without the tag
        ("Still waiting for my refund after 3 weeks", "negative"),  # no negative word, a care cue
        ("this app is sooo baaad", "negative"),  # elongated words
        ("I loooove it", "positive"),
        ("terible servise, realy dissapointed", "negative"),  # common misspellings
        ("awsome staff, thanx", "positive"),
        ("My parcel arrives on Tuesday", "neutral"),
        ("😍😍😍 best purchase this year", "positive"),  # emoji
    ],
)
def test_sentiment(text: str, expected: str) -> None:
    assert sentiment(text).label == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("@acme my order never arrived and nobody answers", "complaint"),
        ("@acme thanks for nothing, still no refund", "complaint"),  # 'thanks' inside a complaint
        ("@acme what time does the Leeds store open on Sunday?", "question"),
        ("@acme please cancel my subscription", "request"),
        ("@acme you guys are amazing, thanks for the quick help!", "praise"),
        ("@acme how much is the pro plan? thinking of buying it for my team", "lead"),
        ("Can anyone recommend a good CRM for a small business?", "lead"),
        ("@acme we'd love to discuss a partnership with your brand", "lead"),
        ("@acme it would be great if the app had a dark mode", "feedback"),
        ("FREE bitcoin giveaway!!! click here https://x.io/a https://x.io/b", "spam"),
        ("Lost funds? Contact him on whatsapp, recovery expert, guaranteed returns", "spam"),
        ("Just had lunch", "other"),
    ],
)
def test_intent(text: str, expected: str) -> None:
    assert triage_message(text).intent == expected


@pytest.mark.parametrize(
    "text",
    [
        "my flight to Rome is tomorrow morning and it just got cancelled",
        "there is smoke coming out of the charger",
        "my account was hacked and someone is using my card",
        "your app is down right now, can't log in at all",
        "I will be contacting my lawyer about this",
        "one of your drivers keeps harassing me",
        "I'm a reporter on deadline, request for comment on the outage",
    ],
)
def test_urgent(text: str) -> None:
    res = triage_message(text)
    assert res.urgent
    assert any(r.startswith("urgent") for r in res.reasons)


def test_not_urgent() -> None:
    assert not triage_message("what are your opening hours next month?").urgent


def test_spreading_complaint_is_urgent() -> None:
    text = "@acme this product broke after one day, terrible"
    assert not triage_message(text).urgent
    assert triage_message(text, engagement=300).urgent
    assert not triage_message("@acme love this", engagement=300).urgent


@pytest.mark.parametrize(
    "author, expected",
    [
        ({"followers_count": 250_000}, True),
        ({"followers_count": 2_000, "verified": True}, True),
        ({"followers_count": 900, "description": "Reporter at the Daily Planet"}, True),
        ({"followers_count": 40, "description": "cat person"}, False),
        ({"followers_count": 50, "verified": True}, False),
        (None, False),
    ],
)
def test_influencer(author: dict[str, object] | None, expected: bool) -> None:
    assert triage_message("hello @acme", author=author).influencer is expected


def test_move_to_dm() -> None:
    assert triage_message("@acme my card 4111 1111 1111 1111 was charged twice", channel="mention").move_to_dm
    assert triage_message("@acme I was charged twice on my account this month").move_to_dm  # account-specific
    assert not triage_message("@acme what are your opening hours?").move_to_dm
    # never for a message that is already private
    assert not triage_message("my card 4111 1111 1111 1111 was charged twice", channel="dm").move_to_dm


def test_priority_orders_by_urgency_influence_and_wait() -> None:
    calm = triage_message("@acme nice shop")
    angry = triage_message("@acme my order never arrived, terrible service")
    urgent = triage_message("@acme my account was hacked and money is gone, terrible")
    assert 0.0 <= calm.priority < angry.priority < urgent.priority <= 1.0
    waited = triage_message("@acme my order never arrived, terrible service", waiting_seconds=6 * 3600)
    assert waited.priority > angry.priority
    assert any(r.startswith("waiting") for r in waited.reasons)
    famous = triage_message(
        "@acme my order never arrived, terrible service", author={"followers_count": 10**6}
    )
    assert famous.priority > angry.priority
    assert famous.reasons[0].startswith("influencer") or famous.reasons[1].startswith("influencer")


def test_spam_sinks() -> None:
    spam = triage_message("Earn $500 a day from home!!! click here https://a.io https://b.io https://c.io")
    assert spam.intent == "spam"
    assert spam.priority < 0.05
