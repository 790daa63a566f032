"""Tests mirror `src/`: a test module lives in the directory of the package it tests."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
SRC = ROOT / "src" / "flockdesk"
# test directories with no package of their own: whole-system runs and checks of the repository itself
ALLOWED_TOP = {"e2e", "browser", "meta"}


def _misplaced() -> list[str]:
    bad = []
    for test in sorted(TESTS.rglob("test_*.py")):
        parts = test.relative_to(TESTS).parts
        if parts[0] in ALLOWED_TOP:
            continue
        if len(parts) == 1:
            # a top-level test covers a top-level module: tests/test_settings.py -> flockdesk/settings.py
            if not (SRC / (test.stem.removeprefix("test_") + ".py")).is_file():
                bad.append(str(test.relative_to(ROOT)))
        elif not SRC.joinpath(*parts[:-1]).is_dir():
            bad.append(str(test.relative_to(ROOT)))
    return bad


def test_every_test_module_lives_under_a_directory_of_src() -> None:
    misplaced = _misplaced()
    assert not misplaced, f"move these under tests/<package>/<subpackage>/ as in src/flockdesk: {misplaced}"


def test_every_test_directory_is_a_package() -> None:
    # test modules are imported as tests.<package>.<module>, so two test files may share a name
    missing = [
        str(d.relative_to(ROOT))
        for d in [TESTS, *sorted(p for p in TESTS.rglob("*") if p.is_dir())]
        if d.name != "__pycache__" and any(d.glob("*.py")) and not (d / "__init__.py").is_file()
    ]
    assert not missing, f"add an __init__.py to {missing}"
