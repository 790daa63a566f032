"""bench/triage_eval.py: skips absent data sets and scores a tiny synthetic one correctly."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "triage_eval.py"


def _load(monkeypatch: pytest.MonkeyPatch, data: Path) -> ModuleType:
    monkeypatch.setenv("FLOCKDESK_DATA_DIR_SHARED", str(data))
    spec = importlib.util.spec_from_file_location("triage_eval_under_test", BENCH)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_absent_data_sets_are_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    mod = _load(monkeypatch, tmp_path)
    for part in ("sentiment", "complaints", "presidio", "twcs"):
        monkeypatch.setattr(sys, "argv", ["triage_eval.py", "--only", part])
        mod.main()
        out = json.loads(capsys.readouterr().out)
        assert "absent" in out[part]["skipped"]


def test_presidio_scoring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = "mail jane@example.com or call 07700 900123, order 5"
    start = text.index("jane")
    records = [
        {
            "full_text": text,
            "spans": [
                {"entity_type": "EMAIL_ADDRESS", "start_position": start, "end_position": start + 16},
                {"entity_type": "PHONE_NUMBER", "start_position": 0, "end_position": 4},  # wrong span
            ],
        },
        {"full_text": "nothing here", "spans": []},
    ]
    (tmp_path / "presidio-synth-pii").mkdir()
    (tmp_path / "presidio-synth-pii" / "synth_dataset_v2.json").write_text(json.dumps(records))
    mod = _load(monkeypatch, tmp_path)
    per = mod.eval_presidio()["per_kind"]
    assert per["email"] == {"recall": 1.0, "precision": 1.0, "gold_spans": 1, "predicted_spans": 1}
    assert per["phone"]["recall"] == 0.0 and per["phone"]["precision"] == 0.0  # found elsewhere


def test_macro_recall_and_prf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mod = _load(monkeypatch, tmp_path)
    score, per = mod.macro_recall(
        ["negative", "neutral", "neutral", "positive"], ["negative", "neutral", "positive", "positive"]
    )
    assert per == {"negative": 1.0, "neutral": 1.0, "positive": 0.5} and score == round(2.5 / 3, 4)
    assert mod.prf(1, 1, 0) == {"precision": 0.5, "recall": 1.0, "f1": 0.6667, "tp": 1, "fp": 1, "fn": 0}
