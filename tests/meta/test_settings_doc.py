"""The settings table in docs/settings.md and the Settings class stay in step."""

from __future__ import annotations

import re
from pathlib import Path

from flockdesk.settings import Settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "settings.md"


def test_every_setting_is_documented_and_every_documented_setting_exists() -> None:
    documented = set(re.findall(r"^\| `FLOCKDESK_([A-Z0-9_]+)` \|", DOC.read_text(), flags=re.M))
    declared = {name.upper() for name in Settings.model_fields}
    assert documented == declared


def test_every_setting_has_a_description() -> None:
    assert all(f.description for f in Settings.model_fields.values())
