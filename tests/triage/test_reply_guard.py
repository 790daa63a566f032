"""The public-reply guard: asking for data in public, or exposing it, is flagged."""

from __future__ import annotations

import pytest

from flockdesk.triage import check_reply


@pytest.mark.parametrize(
    "text",
    [
        "Sorry about that! Reply with your email and we'll look into it.",
        "What's your booking ref?",
        "Could you tweet us your order number please?",
        "Can we have your phone number so we can call you?",
        "Please share your account number and postcode here.",
        "Let us know your date of birth to verify.",
        "Please reply with your contact details.",
    ],
)
def test_asks_in_public(text: str) -> None:
    res = check_reply(text)
    assert res.asks_for_sensitive
    assert "DM" in res.advice


@pytest.mark.parametrize(
    "text",
    [
        "Please send us a DM with your order number and we'll take a look.",
        "So sorry! Could you DM us your booking reference?",
        "Please send us a private message with your email address.",
        "Thanks for your patience, the team is on it.",
        "Our helpline is open 9-5 on 0800 123 4567.",
        "What's the best number to reach you on? Please DM it to us.",
        "Send us the details and a photo and we'll sort it.",
        "Have you tried restarting the router?",
    ],
)
def test_fine_replies(text: str) -> None:
    res = check_reply(text)
    assert not res.asks_for_sensitive
    assert res.contains_sensitive == []
    assert res.advice == "OK to post publicly."


def test_exposes_data() -> None:
    res = check_reply("We've emailed jane@example.com and called 07700 900123.")
    assert res.contains_sensitive == ["email", "phone"]
    assert not res.asks_for_sensitive
    assert "email, phone" in res.advice


def test_both_flags() -> None:
    res = check_reply("Is jane@example.com still right? What's your order number?")
    assert res.asks_for_sensitive and res.contains_sensitive == ["email"]
