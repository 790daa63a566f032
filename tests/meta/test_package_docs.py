"""Each package opens with a docstring that says what it owns."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "flockdesk"


def test_every_package_has_a_docstring() -> None:
    missing = [
        str(init.relative_to(SRC.parent))
        for init in sorted(SRC.rglob("__init__.py"))
        if not (ast.get_docstring(ast.parse(init.read_text())) or "").strip()
    ]
    assert not missing, f"packages without a docstring saying what they own: {missing}"
