"""The shipped triage model: what it is built from, how it scores, and the language of a message."""

from __future__ import annotations

import hashlib
import importlib.util
import json
from importlib import resources
from pathlib import Path
from types import ModuleType

import pytest

from flockdesk.triage import triage_message
from flockdesk.triage.corpus import SPLITS, load_messages, load_replies, split_of
from flockdesk.triage.lang import detect_lang
from flockdesk.triage.model import HEADS, MODEL_FILE, load_model, parse, text_features

ROOT = Path(__file__).resolve().parents[2]
EVAL_ONLY = ("tweeteval", "complaints", "airline", "twcs", "vader-tweets")


def test_split_follows_the_corpus_readme() -> None:
    for item_id in ("en-a-0001", "xx-c-0042", "rg-c-0100"):
        bucket = int(hashlib.sha1(item_id.encode("utf-8")).hexdigest(), 16) % 10
        assert split_of(item_id) == ("train" if bucket <= 6 else "val" if bucket == 7 else "test")


def test_corpus_loads_every_file(tmp_path: Path) -> None:
    (tmp_path / "messages").mkdir()
    (tmp_path / "replies").mkdir()
    row = {"id": "zz-1", "text": "hola", "intent": "other", "sentiment": "neutral", "sensitive": []}
    (tmp_path / "messages" / "a.jsonl").write_text(json.dumps(row) + "\n\n")
    (tmp_path / "messages" / "hd-d-01.jsonl").write_text(json.dumps({**row, "id": "zz-0"}) + "\n")
    (tmp_path / "replies" / "r.jsonl").write_text(
        json.dumps({"id": "r1", "text": "hi", "asks_for_sensitive": True})
    )
    assert [m.id for m in load_messages(tmp_path)] == ["zz-0", "zz-1"]
    assert load_replies(tmp_path)[0].flagged
    (tmp_path / "messages" / "bad.jsonl").write_text("{not json\n")
    with pytest.raises(ValueError, match="bad.jsonl:1"):
        load_messages(tmp_path)


def test_model_is_built_from_the_corpus_only_and_small() -> None:
    path = resources.files("flockdesk.triage").joinpath(MODEL_FILE)
    text = path.read_text("utf-8")
    doc = json.loads(text)
    assert "corpus" in doc["_about"] and not any(name in doc["_about"].lower() for name in EVAL_ONLY)
    assert set(doc["heads"]) == set(HEADS)
    assert len(text.encode()) < 5_000_000


def test_joint_scoring_feeds_the_predicted_intent_to_the_other_heads() -> None:
    doc = {
        "heads": {
            "intent": {
                "classes": ["complaint", "other", "praise"],
                "bias": [0.0, -1.0, 0.1],
                "rows": {"bad": [2.0, 0.0, -2.0]},
            },
            "sentiment": {
                "classes": ["negative", "neutral", "positive"],
                "bias": [0.0, 0.5, 0.0],
                "rows": {"§intent=complaint": [1.0, 0.0, 0.0], "§intent=praise": [0.0, 0.0, 1.0]},
            },
            "move_to_dm": {
                "classes": ["false", "true"],
                "bias": [-1.0],
                "rows": {"§dm=False": [2.0]},
                "threshold": 0.5,
            },
            "urgent": {"classes": ["false", "true"], "bias": [-5.0], "rows": {}, "threshold": 0.5},
        }
    }
    model = parse(doc)
    for words, intent, senti in ((["bad"], "complaint", "negative"), ([], "praise", "positive")):
        scores = model.scores(words, ["§dm=False"])
        got = model.decide(scores, "intent")
        model.add(scores, f"§intent={got}")
        assert (got, model.decide(scores, "sentiment")) == (intent, senti)
        assert model.decide(scores, "move_to_dm") == "true" and model.decide(scores, "urgent") == "false"


def test_text_features_fold_digits_and_case() -> None:
    feats = text_features("Order 12345 LOST")
    assert {"order", "00000", "lost", "order 00000", "<ord", "ost>"} <= set(feats)


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("@SkywardAir my bag never arrived and nobody answers the phone", "en"),
        ("@SkywardAir genial, tres horas esperando en la puerta y nadie dice nada", "es"),
        ("@NorthbayShop bonjour, ma commande n'est toujours pas arrivée, c'est normal ?", "fr"),
        ("@LumenMobile seit gestern kein Netz in der ganzen Straße, was ist da los?", "de"),
        ("@HarbourBank bom dia, o aplicativo não abre desde ontem, vocês sabem o que houve?", "pt"),
        ("@AshfordCouncil buongiorno, la raccolta dei rifiuti salta da due settimane", "it"),
        ("💜💜💜", "und"),
        ("", "und"),
    ],
)
def test_language_is_detected_per_message(text: str, lang: str) -> None:
    assert detect_lang(text) == lang
    assert triage_message(text).to_dict()["lang"] == lang


def test_language_detection_survives_code_points_cld2_refuses() -> None:
    assert detect_lang("\ud800 hola \x00 amigos, ¿qué tal estáis hoy?") in ("es", "und")


def _builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "build_triage_model", ROOT / "scripts" / "build_triage_model.py"
    )
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_build_script_says_where_the_corpus_is_missing(tmp_path: Path) -> None:
    pytest.importorskip("sklearn", reason="the model build group is not installed (uv sync --group model)")
    with pytest.raises(SystemExit, match="pass --corpus DIR"):
        _builder().main(["--corpus", str(tmp_path), "--check"])


@pytest.mark.slow
def test_build_script_reproduces_the_shipped_model() -> None:
    """Several minutes: the build fits every head for each setting on the val split."""
    pytest.importorskip("sklearn", reason="the model build group is not installed (uv sync --group model)")
    assert _builder().main(["--check"]) == 0


def test_model_loads_once() -> None:
    assert load_model() is load_model()
    assert SPLITS == ("train", "val", "test")
