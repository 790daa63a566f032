"""The composer's live counter (static/twtext.js, run by node) against the twitter-text conformance cases."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from flockdesk.domain.text import weighted_length

JS = Path(__file__).resolve().parents[2] / "src" / "flockdesk" / "web" / "static" / "twtext.js"
RUNNER = """
globalThis.window = globalThis;
require(process.argv[1]);
const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
console.log(JSON.stringify(input.map(([t, k]) => window.FlockText.weightedLength(t, k))));
"""


def js_lengths(items: list[tuple[str, str]]) -> list[int]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed; the composer counter's JS is not checked")
    out = subprocess.run(
        [node, "-e", RUNNER, str(JS)],
        input=json.dumps(items),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(out.stdout)


def test_js_counter_matches_conformance_weighted_lengths(shared_dir: Path) -> None:
    data = yaml.safe_load(
        (shared_dir / "reference" / "twitter-text-conformance" / "validate.yml").read_text()
    )
    cases = data["tests"]["WeightedTweetsWithDiscountedEmojiCounterTest"]
    cases += data["tests"].get("UnicodeDirectionalMarkerCounterTest", [])
    got = js_lengths([(c["text"], "post") for c in cases])
    wrong = [
        (c["description"], c["expected"]["weightedLength"], g)
        for c, g in zip(cases, got, strict=True)
        if g != c["expected"]["weightedLength"]
    ]
    assert wrong == [] and len(cases) > 20


def test_js_counter_agrees_with_server_on_everyday_replies() -> None:
    samples = [
        "Thanks for reaching out! 😊 Please DM us at https://x.com/messages/compose?recipient_id=42",
        "Désolé pour le retard, on s'en occupe 👍🏽",
        "ご迷惑をおかけして申し訳ありません。DMでご連絡ください。",
        "🇬🇧 flights today: check skywardair.com/status #travel",
        "x" * 300,
    ]
    got = js_lengths([(s, "post") for s in samples] + [(s, "dm") for s in samples])
    want = [weighted_length(s, "post") for s in samples] + [weighted_length(s, "dm") for s in samples]
    assert got == want
