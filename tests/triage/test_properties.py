"""Triage and the reply guard never crash on arbitrary Unicode and always give valid labels."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flockdesk.domain.vocabulary import INTENTS, LABEL_KEYS, SENTIMENTS
from flockdesk.triage import (
    SENSITIVE_KINDS,
    check_reply,
    find_sensitive,
    sensitive_kinds,
    triage_message,
)
from flockdesk.triage.reply_guard import ADVICE_OK

texty = st.one_of(
    st.text(max_size=400),
    st.lists(
        st.sampled_from(
            [
                "my",
                "card",
                "4111",
                "1111",
                "@",
                "dot",
                " at ",
                "call",
                "+44",
                "07700",
                "900123",
                "order",
                "#",
                "😡",
                "not",
                "great",
                "!!!",
                "\n",
                "ref",
                "password is",
                "DM",
            ]
        ),
        max_size=30,
    ).map(" ".join),
)
authors = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {},
        optional={
            "username": st.text(max_size=20),
            "name": st.text(max_size=20),
            "description": st.text(max_size=80),
            "followers_count": st.one_of(st.integers(-5, 10**9), st.none(), st.text(max_size=5)),
            "verified": st.booleans(),
        },
    ),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=texty,
    channel=st.sampled_from([None, "mention", "dm", "search"]),
    author=authors,
    waiting=st.floats(allow_nan=True, allow_infinity=True),
)
def test_triage_total(
    text: str, channel: str | None, author: dict[str, object] | None, waiting: float
) -> None:
    res = triage_message(text, channel=channel, author=author, waiting_seconds=waiting)
    d = res.to_dict()
    assert tuple(d) == (*LABEL_KEYS, "lang")
    assert d["lang"] == "und" or (len(d["lang"]) == 2 and d["lang"].isalpha())
    assert d["intent"] in INTENTS
    assert d["sentiment"] in SENTIMENTS
    assert set(d["sensitive"]) <= set(SENSITIVE_KINDS)
    assert 0.0 <= d["priority"] <= 1.0
    assert isinstance(d["urgent"], bool) and isinstance(d["influencer"], bool)
    if channel == "dm":
        assert d["move_to_dm"] is False
    assert all(isinstance(r, str) and r for r in res.reasons)


@settings(max_examples=200, deadline=None)
@given(text=texty)
def test_check_reply_total(text: str) -> None:
    res = check_reply(text)
    assert isinstance(res.asks_for_sensitive, bool)
    assert set(res.contains_sensitive) <= set(SENSITIVE_KINDS)
    assert res.advice


ADVERSARIAL = [
    "1" * 3000 + "a",
    "1 " * 2000 + "x",
    "1-" * 2000 + "a",
    "(1)" * 1500 + "x",
    "+1 " * 1500,
    "a." * 3000 + "@",
    "a at " * 1000,
    "order" + " " * 5000 + "!",
    "a" + " " * 5000 + "dot",
    "aaab" * 1500,
    "12 Abc " * 1000,
    "password: " * 500,
    "@" + "a" * 8000,
    "#a" * 2000,
]


@pytest.mark.timeout(120)
def test_long_adversarial_inputs_finish() -> None:
    """Patterns are written so that no input makes them backtrack for ever (pytest-timeout guards this)."""
    for text in ADVERSARIAL:
        assert triage_message(text).intent in INTENTS
        assert check_reply(text).advice


def _with_luhn_digit(body: list[int]) -> str:
    total = 0
    for i, d in enumerate(reversed(body)):
        d = d * 2 if i % 2 == 0 else d
        total += d - 9 if d > 9 else d
    return "".join(map(str, body)) + str((10 - total % 10) % 10)


@settings(max_examples=150, deadline=None)
@given(
    body=st.lists(st.integers(0, 9), min_size=15, max_size=15).filter(lambda b: len(set(b)) > 1),
    sep=st.sampled_from(["", " ", "-"]),
    prefix=st.sampled_from(["my card is ", "visa ", "paid with "]),
    suffix=st.sampled_from(["", " thanks", ", why was it declined?"]),
)
def test_any_luhn_valid_card_is_found_and_its_neighbours_are_not(
    body: list[int], sep: str, prefix: str, suffix: str
) -> None:
    number = _with_luhn_digit([4, *body[1:]])
    shown = sep.join(number[i : i + 4] for i in range(0, 16, 4))
    assert "payment_card" in sensitive_kinds(prefix + shown + suffix)
    wrong = number[:-1] + str((int(number[-1]) + 1) % 10)  # the check digit off by one
    shown_wrong = sep.join(wrong[i : i + 4] for i in range(0, 16, 4))
    # not a card unless the text says it is one (the label page: a card number failing Luhn still counts)
    said = prefix != "paid with "
    assert ("payment_card" in sensitive_kinds(prefix + shown_wrong + suffix)) is said


REGIONS = ["GB", "US", "FR", "DE", "ES", "IT", "NL", "IE", "IN", "AU", "BR", "MX", "JP", "ZA", "NG", "SE"]


@settings(max_examples=80, deadline=None)
@given(
    region=st.sampled_from(REGIONS),
    fmt=st.sampled_from([phonenumbers.PhoneNumberFormat.INTERNATIONAL, phonenumbers.PhoneNumberFormat.E164]),
    lead=st.sampled_from(["call me on ", "my number is ", "", "reach me at "]),
)
def test_international_phone_numbers_are_found(region: str, fmt: int, lead: str) -> None:
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    assert example is not None
    shown = phonenumbers.format_number(example, fmt)
    assert "phone" in sensitive_kinds(f"{lead}{shown} please")


GUARDED = ("payment_card", "phone", "email", "account_number")
pieces = st.sampled_from(
    [
        "4111 1111 1111 1111",
        "07700 900123",
        "+44 7700 900 123",
        "jane.doe@example.com",
        "account number 88031204",
        "card ending 4242",
        "IBAN GB29 NWBK 6016 1331 9268 19",
        "Thanks",
        "we'll look into it",
        "DM us",
        "never share your password",
    ]
)


@settings(max_examples=200, deadline=None)
@given(before=st.text(max_size=80), piece=pieces, after=st.text(max_size=80))
def test_guard_never_passes_a_reply_with_detected_personal_data(before: str, piece: str, after: str) -> None:
    text = f"{before} {piece} {after}"
    found = {f.kind for f in find_sensitive(text)} & set(GUARDED)
    res = check_reply(text)
    if found:
        assert set(res.contains_sensitive) >= found
        assert res.advice != ADVICE_OK
