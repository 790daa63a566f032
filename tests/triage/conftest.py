"""Cases written for the rule-based triage that the corpus-trained model labels differently.

They stay as strict expected failures: each is a known miss (reported in docs/triage.md, "Limits"), and a
model or rule change that fixes one makes its test pass, which strict xfail turns into a failure so that
the case is moved back to the passing tests. Each remaining case was checked against the label page
(`triage-labels.md`) and still agrees with it, so none is rewritten.
"""

from __future__ import annotations

import pytest

KNOWN_MODEL_MISSES = {
    "test_resolved_story_told_as_praise",
    "test_leads[@OakridgeU how do I apply for the nursing program?]",
    "test_leads[@OakridgeU what does the summer course cost?]",
    "test_complaints[@SkywardAir honestly the crew on my last flight was great but the app is a disaster]",
    "test_complaints[@OakridgeU copy and pasted response, classic]",
    "test_complaints[@OakridgeAlumni still getting the emails though]",
    "test_complaints[Oakridge U's financial aid office is a black hole]",
    "test_complaints[@OakridgeU this school really only cares about donors \\U0001f644]",
    "test_positive_words_alone_are_not_praise[@OakridgeU omg this is the third story like this I've seen today]",
    "test_a_customer_writing_about_a_lost_bag_is_not_a_journalist",
    "test_idioms_vader_reads_backwards_are_positive[no complaints at all, smooth trip]",
    "test_idioms_vader_reads_backwards_are_positive[never disappoints]",
    "test_intent[@acme thanks for nothing, still no refund-complaint]",
    "test_priority_orders_by_urgency_influence_and_wait",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        name = item.nodeid.split("::", 1)[-1]
        if name in KNOWN_MODEL_MISSES:
            item.add_marker(
                pytest.mark.xfail(strict=True, reason="the corpus model labels this case differently")
            )


def definition_cases(cases: dict[str, list[str]], misses: set[str]) -> list[object]:
    """pytest params (text, label) for the definition-pinning tests; the cases the shipped model labels
    differently are strict xfails, so a fix shows up as an unexpected pass."""
    out: list[object] = []
    for label, texts in cases.items():
        for text in texts:
            marks = (
                [pytest.mark.xfail(strict=True, reason="the model labels this hard case differently")]
                if text in misses
                else []
            )
            out.append(pytest.param(text, label, marks=marks, id=f"{label}:{text[:40]}"))
    return out
