"""The vocabulary is defined once (domain/vocabulary.py): no other module spells out one of its sets,
and the conversation listings do not import each other."""

from __future__ import annotations

import ast
from pathlib import Path

from flockdesk.domain import vocabulary

SRC = Path(__file__).resolve().parents[2] / "src" / "flockdesk"
HOME = SRC / "domain" / "vocabulary.py"
OWN_PACKAGE = SRC / "emulator"  # the emulator stands in for X and imports nothing of Flockdesk's


def _vocabulary_sets() -> dict[frozenset[str], str]:
    out = {}
    for name, value in vars(vocabulary).items():
        if name.isupper() and isinstance(value, tuple) and len(value) >= 3:
            out[frozenset(value)] = name
    return out


def _string_sets(tree: ast.AST) -> list[tuple[int, frozenset[str]]]:
    """Every tuple, list, set or Literal[...] made only of string constants."""
    found = []
    for node in ast.walk(tree):
        elts = None
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            elts = node.elts
        elif (
            isinstance(node, ast.Subscript)
            and isinstance(node.slice, ast.Tuple)
            and getattr(node.value, "id", getattr(node.value, "attr", "")) == "Literal"
        ):
            elts = node.slice.elts
        if elts and all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in elts):
            found.append((node.lineno, frozenset(e.value for e in elts)))  # type: ignore[attr-defined]
    return found


def test_no_module_repeats_a_vocabulary_set() -> None:
    sets = _vocabulary_sets()
    assert frozenset(vocabulary.INTENTS) in sets and frozenset(vocabulary.OUTBOX_KINDS) in sets
    copies = []
    for path in SRC.rglob("*.py"):
        if path == HOME or OWN_PACKAGE in path.parents:
            continue
        for line, words in _string_sets(ast.parse(path.read_text(encoding="utf-8"))):
            if words in sets:
                copies.append(f"{path.relative_to(SRC)}:{line} repeats {sets[words]}")
    assert copies == []


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def test_inbox_and_search_do_not_import_each_other() -> None:
    pkg = SRC / "services" / "conversations"
    assert "flockdesk.services.conversations.inbox" not in _imports(pkg / "search.py")
    assert "flockdesk.services.conversations.inbox" not in _imports(pkg / "listing.py")
    assert "flockdesk.services.conversations.search" not in _imports(pkg / "listing.py")
