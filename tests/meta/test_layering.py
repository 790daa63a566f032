"""Dependencies point inward: domain imports nothing from the outer layers, services never import web
or cli, only connectors and jobs talk to platforms, and jobs reach the store only through services
(plus `store.db` to make an engine and migrate)."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[2] / "src" / "flockdesk"

FORBIDDEN = {
    "domain": (
        "flockdesk.web",
        "flockdesk.cli",
        "flockdesk.store",
        "flockdesk.services",
        "flockdesk.connectors",
        "flockdesk.jobs",
        "sqlalchemy",
        "fastapi",
        "starlette",
    ),
    "triage": (
        "flockdesk.web",
        "flockdesk.cli",
        "flockdesk.store",
        "flockdesk.jobs",
        "sqlalchemy",
        "fastapi",
    ),
    "services": ("flockdesk.web", "flockdesk.cli", "fastapi", "starlette"),
    "store": ("flockdesk.web", "flockdesk.cli", "flockdesk.services", "flockdesk.jobs"),
    "connectors": ("flockdesk.web", "flockdesk.cli"),
    "jobs": ("flockdesk.web", "flockdesk.cli", "flockdesk.store", "sqlalchemy.dialects"),
}
# exceptions to the rules above
ALLOWED = {"jobs": ("flockdesk.store.db",)}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_layers_only_depend_inward() -> None:
    violations = []
    for layer, forbidden in FORBIDDEN.items():
        for path in (PKG / layer).rglob("*.py"):
            for name in _imports(path):
                if name.startswith(forbidden) and not name.startswith(ALLOWED.get(layer, ())):
                    violations.append(f"{path.relative_to(PKG)} imports {name}")
    assert violations == []
