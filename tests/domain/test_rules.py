from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flockdesk.domain import rules


def test_each_conversation_kind_has_exactly_one_answer_kind() -> None:
    assert rules.outbox_kind_for("dm") == "dm"
    assert rules.outbox_kind_for("public") == "reply"
    assert rules.channel_violation("dm", "reply") is not None
    assert rules.channel_violation("dm", "public_ack") is not None
    assert rules.channel_violation("public", "dm") is not None
    assert rules.channel_violation("public", "public_ack") is None
    with pytest.raises(ValueError):
        rules.outbox_kind_for("email")


def test_length_rules_per_kind() -> None:
    assert rules.length_violation("x" * 281, "reply").reason == "too_long"  # type: ignore[union-attr]
    assert rules.length_violation("x" * 281, "dm") is None
    assert rules.length_violation("  ", "dm").reason == "empty"  # type: ignore[union-attr]


def test_public_text_repeating_a_dm_is_a_leak_whatever_the_case_or_punctuation() -> None:
    dm = "My card ends 4242, address 12 Elm Street"
    assert rules.dm_leak("Thanks! my CARD ends 4242 address 12 elm street.", [dm]) is not None


def test_a_long_run_of_a_longer_dm_is_a_leak() -> None:
    dm = "hello there my booking under the name Smith was cancelled yesterday without any notice at all"
    public = "We see: booking under the name Smith was cancelled yesterday without any notice. Sorry!"
    assert rules.dm_leak(public, [dm]) is not None


def test_short_dms_and_unrelated_text_do_not_block() -> None:
    assert rules.dm_leak("thanks a lot", ["thanks"]) is None
    assert rules.dm_leak("We are looking into it now", ["my address is 12 Elm Street"]) is None


def _leaks_by_scanning(public_text: str, dm: str) -> bool:
    """The rule stated plainly: the whole DM (4+ words), or any 8 consecutive words of it, appear as
    consecutive words of the public text."""
    public, dm_words = rules.words(public_text), rules.words(dm)
    if len(dm_words) < rules.MIN_DM_WORDS:
        return False
    runs = [dm_words] + [
        dm_words[i : i + rules.WINDOW_WORDS] for i in range(len(dm_words) - rules.WINDOW_WORDS + 1)
    ]
    return any(public[i : i + len(run)] == run for run in runs for i in range(len(public) - len(run) + 1))


_small_words = st.lists(st.sampled_from(["a", "b", "c", "Card", "4242", "elm,"]), max_size=14).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(public=_small_words, dms=st.lists(_small_words, max_size=4))
def test_dm_leak_agrees_with_the_plain_statement_of_the_rule(public: str, dms: list[str]) -> None:
    expected = any(_leaks_by_scanning(public, dm) for dm in dms)
    assert (rules.dm_leak(public, dms) is not None) == expected
