"""A conversation's state columns change only through services/conversations/state.py (or a writer
that records the same history rows), so every change leaves a history row: a source scan."""

from __future__ import annotations

import ast
from pathlib import Path

from flockdesk.domain.conversation_state import COLUMNS

SRC = Path(__file__).resolve().parents[3] / "src" / "flockdesk"
# the writers that record a history row for each change they make
RECORDING_WRITERS = {
    "services/conversations/state.py",  # apply(): the columns and the row, one transaction
    "services/ingest/labels.py",  # relabel rows through state.record_many
}


def _updates_conversations(node: ast.AST) -> bool:
    """Whether an expression chain starts with `conversations.update()`."""
    while isinstance(node, ast.Call | ast.Attribute):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "update"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "conversations"
        ):
            return True
        node = node.func if isinstance(node, ast.Call) else node.value
    return False


def _direct_state_writes() -> list[str]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if rel in RECORDING_WRITERS or rel.startswith("store/migrations/"):
            continue
        for node in ast.walk(ast.parse(path.read_text(), rel)):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr != "values" or not _updates_conversations(node.func.value):
                continue
            names = {k.arg for k in node.keywords if k.arg is not None}
            if names & set(COLUMNS) or any(k.arg is None for k in node.keywords):
                found.append(f"{rel}:{node.lineno} sets {sorted(names & set(COLUMNS)) or '**columns'}")
    return found


def test_state_columns_change_only_where_history_is_written() -> None:
    assert _direct_state_writes() == [], (
        "change a conversation's state through services/conversations/state.apply (it writes the "
        "history row), not with conversations.update()"
    )


def test_the_scan_sees_a_direct_write() -> None:
    tree = ast.parse("conn.execute(conversations.update().where(c.id == 1).values(status='resolved'))")
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)]
    values = next(n for n in calls if n.func.attr == "values")  # type: ignore[attr-defined]
    assert _updates_conversations(values.func.value)  # type: ignore[attr-defined]
