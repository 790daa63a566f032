"""The shipped n-gram sentiment model: what it reads, what it says, and that it rebuilds from allowed data."""

from __future__ import annotations

import importlib.util
import json
import os
from importlib import resources
from pathlib import Path
from types import ModuleType

import pytest

from flockdesk.triage.ngram import MODEL_FILE, features, ngram_score, predict

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("FLOCKDESK_DATA_DIR_SHARED", ROOT.parent / "shared" / "data"))
EVAL_ONLY = ("tweeteval", "complaints", "airline-sentiment", "twcs")


def test_features_are_lowercase_words_and_bigrams() -> None:
    feats = features("Love the NEW app!")
    assert {"love", "new", "app", "!", "love the", "new app", "app !"} <= feats
    assert "Love" not in feats


def test_predict_is_bias_plus_normalised_sum() -> None:
    weights = {"good": 0.8, "bad": -0.8}
    assert predict([], 0.1, weights) == pytest.approx(0.1)
    assert predict(["good", "x", "y", "z"], 0.1, weights) == pytest.approx(0.1 + 0.8 / 2)
    assert predict(["bad"], 0.0, weights) == pytest.approx(-0.8)


def test_scores_point_the_right_way() -> None:
    assert ngram_score("I love this, great job, thank you so much") > 0.2
    assert ngram_score("worst service ever, I hate this, so angry") < -0.2
    assert ngram_score("worst service ever") < ngram_score("best service ever")


def test_model_file_names_its_only_source() -> None:
    doc = json.loads(resources.files("flockdesk.triage").joinpath(MODEL_FILE).read_text("utf-8"))
    assert "vader-tweets-groundtruth" in doc["_about"]
    assert not any(name in doc["_about"].lower() for name in EVAL_ONLY)
    assert 1000 < len(doc["weights"]) < 50000  # small: a few hundred KiB at most
    assert all(-5 < w < 5 for w in doc["weights"].values())


def _builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "build_triage_model", ROOT / "scripts" / "build_triage_model.py"
    )
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.skipif(not (DATA / "vader-tweets-groundtruth").exists(), reason="shared data absent")
def test_build_script_reproduces_the_shipped_file() -> None:
    assert _builder().main(["--data", str(DATA), "--check"]) == 0


def test_build_script_says_where_the_data_is_missing(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="pass --data DIR"):
        _builder().main(["--data", str(tmp_path), "--check"])
