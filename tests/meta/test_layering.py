"""Dependencies point inward: domain imports nothing from the outer layers, services never import web
or cli, web and cli never touch store tables, jobs reach the store only through services (plus
`store.db` to make an engine and migrate), and nothing outside connectors/ imports a platform's
folder (connectors/x): services reach a platform through the registry by its name."""

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
    # dialect-specific SQL lives in store/ (store/dialect.py, store/bulk.py, store/fulltext.py)
    "services": ("flockdesk.web", "flockdesk.cli", "fastapi", "starlette", "sqlalchemy.dialects"),
    "store": ("flockdesk.web", "flockdesk.cli", "flockdesk.services", "flockdesk.jobs"),
    "connectors": ("flockdesk.web", "flockdesk.cli"),
    "jobs": ("flockdesk.web", "flockdesk.cli", "flockdesk.store", "sqlalchemy.dialects"),
    "web": ("flockdesk.store.schema",),
    "cli": ("flockdesk.store.schema",),
}
# exceptions to the rules above
ALLOWED = {"jobs": ("flockdesk.store.db",)}
# What code outside connectors/ may import from it: the Protocols, the registry, shared arithmetic.
CONNECTORS_PUBLIC = (
    "flockdesk.connectors.base",
    "flockdesk.connectors.registry",
    "flockdesk.connectors.backoff",
)


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


def _platform_imports(path: Path) -> set[str]:
    """`flockdesk.connectors.<platform>...` modules the file imports (also `from flockdesk.connectors import x`)."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
            if node.module == "flockdesk.connectors":  # `from flockdesk.connectors import x`
                names += [f"{node.module}.{a.name}" for a in node.names]
        for name in names:
            if name.startswith("flockdesk.connectors.") and not name.startswith(CONNECTORS_PUBLIC):
                found.add(name)
    return found


def test_only_connectors_import_a_platforms_folder() -> None:
    violations = [
        f"{path.relative_to(PKG)} imports {name}"
        for path in PKG.rglob("*.py")
        if not path.is_relative_to(PKG / "connectors")
        for name in _platform_imports(path)
    ]
    assert violations == []


def test_the_layering_rules_catch_a_platform_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from flockdesk.connectors import x\nfrom flockdesk.connectors.x.parse import parse_tweet\n"
    )
    assert _platform_imports(bad) == {"flockdesk.connectors.x", "flockdesk.connectors.x.parse"}
    good = tmp_path / "good.py"
    good.write_text(
        "from flockdesk.connectors import registry\nfrom flockdesk.connectors.base import Sender\n"
    )
    assert _platform_imports(good) == set()


# The one place a payload's `raw` is touched outside connectors/: the ingest write path stores it.
RAW_STORERS = {Path("services/ingest/ingestor.py")}


def test_raw_payloads_are_stored_never_read_after_parsing() -> None:
    """Engagement, media, links and reply targets are parsed fields; `raw` is kept for audit only."""
    readers = []
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG)
        if rel.parts[0] in ("connectors", "emulator") or rel.parts[:2] == ("store", "migrations"):
            continue
        if rel in RAW_STORERS:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            by_attr = isinstance(node, ast.Attribute) and node.attr == "raw"
            by_key = (
                isinstance(node, ast.Subscript)
                and isinstance(node.slice, ast.Constant)
                and node.slice.value == "raw"
            )
            if by_attr or by_key:
                readers.append(f"{rel}:{getattr(node, 'lineno', '?')}")
    assert readers == []


def test_services_leave_dialect_differences_to_the_store() -> None:
    """No `conn.dialect` / `engine.dialect` branching and no PRAGMA in services: store/dialect.py,
    store/bulk.py and store/fulltext.py hold what differs between SQLite and PostgreSQL."""
    found = []
    for path in (PKG / "services").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            by_attr = isinstance(node, ast.Attribute) and node.attr == "dialect"
            pragma = (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and "PRAGMA" in node.value.upper()
            )
            if by_attr or pragma:
                found.append(f"{path.relative_to(PKG)}:{getattr(node, 'lineno', '?')}")
    assert found == []
