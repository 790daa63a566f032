"""The sentiment labels pinned to the label page: the author's overall tone, not the words.

"A complaint told in a flat, factual tone is negative; a polite question ("thanks in advance!") is
neutral; a how-to question that names a problem is neutral." Cases are written for the project from
that wording; cases the shipped model still gets wrong are strict expected failures (`MODEL_MISSES`).
"""

from __future__ import annotations

import pytest

from flockdesk.triage import triage_message

from .conftest import definition_cases

CASES: dict[str, list[str]] = {
    "negative": [
        "@NorthbayShop ordered blue, got grey",  # a flat, factual complaint
        "love waiting 3 hours on hold, great job @LumenMobile 🙃",  # sarcasm
        "@AshfordCouncil bins not collected for the third week running",
        "@SkywardAir my bag went to Madrid and I went to Oslo. again.",
    ],
    "neutral": [
        "@TallyApp how do I export invoices to CSV? thanks in advance!",  # politeness is not positive
        "@LumenMobile my watch won't pair since the update, is there a fix?",  # a problem named in a question
        "@HarbourBank what time does the Leeds branch open on Saturdays?",
        "@AshfordCouncil please send a replacement recycling box to my flat",
    ],
    "positive": [
        "@StMarysHealth the night nurse on ward 7 sat with my dad until he fell asleep. that's care",
        "@NorthbayShop 🔥🔥🔥",
        "@BrightwaterEnergy engineer turned up early, fixed the boiler and tidied up after himself",
        "@OakridgeU got my offer letter today!!! see you in September",
    ],
}

# Cases the shipped model labels differently today (see docs/triage.md, Limits).
MODEL_MISSES = {"@NorthbayShop ordered blue, got grey", "@NorthbayShop 🔥🔥🔥"}


@pytest.mark.parametrize(("text", "label"), definition_cases(CASES, MODEL_MISSES))
def test_sentiment_follows_the_label_page(text: str, label: str) -> None:
    assert triage_message(text, channel="mention").sentiment == label


def test_every_sentiment_label_is_pinned() -> None:
    assert set(CASES) == {"negative", "neutral", "positive"}
