"""domain.text against the official twitter-text conformance cases (validate.yml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from flockdesk.domain.text import DM_LIMIT, POST_LIMIT, length_info, weighted_length

VALIDATE = (
    Path(__file__).resolve().parents[3] / "shared" / "reference" / "twitter-text-conformance" / "validate.yml"
)


def _cases(group: str) -> list[Any]:
    if not VALIDATE.exists():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"{VALIDATE} is absent (no shared/ data)"))]

    data = yaml.safe_load(VALIDATE.read_text(encoding="utf-8"))
    return [pytest.param(c, id=c["description"][:60]) for c in data["tests"][group]]


@pytest.mark.parametrize("case", _cases("WeightedTweetsWithDiscountedEmojiCounterTest"))
def test_weighted_length_matches_v3_conformance(case: dict[str, Any]) -> None:
    expected = case["expected"]
    info = length_info(case["text"], "post")
    assert info["weighted_length"] == expected["weightedLength"]
    assert info["valid"] == expected["valid"]


@pytest.mark.parametrize("case", _cases("UnicodeDirectionalMarkerCounterTest"))
def test_directional_markers_match_conformance(case: dict[str, Any]) -> None:
    expected = case["expected"]
    assert weighted_length(case["text"], "reply") == expected["weightedLength"]
    assert length_info(case["text"], "reply")["valid"] == expected["valid"]


def test_urls_count_23_and_emoji_sequences_count_2() -> None:
    assert weighted_length("see https://example.com/a/very/long/path/that/goes/on/and/on", "post") == 4 + 23
    assert weighted_length("👨‍👩‍👧‍👦", "post") == 2


def test_post_limit_is_280_weighted() -> None:
    assert length_info("a" * POST_LIMIT, "post")["valid"] is True
    over = length_info("a" * (POST_LIMIT + 1), "reply")
    assert over["valid"] is False and over["remaining"] == -1


def test_dm_counts_characters_up_to_10000() -> None:
    text = "漢" * DM_LIMIT
    assert weighted_length(text, "dm") == DM_LIMIT
    assert length_info(text, "dm")["valid"] is True
    assert length_info(text + "x", "dm")["valid"] is False


def test_blank_text_is_not_valid_and_unknown_kind_is_a_clear_error() -> None:
    assert length_info("   ", "dm")["valid"] is False
    with pytest.raises(ValueError, match="use one of"):
        weighted_length("hi", "email")
