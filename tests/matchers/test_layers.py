"""`matchers` and `rules` are pure: no database, network, Flask or service code."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# reconciler.heap only pauses and freezes Python's garbage collector (standard library gc).
ALLOWED_RECONCILER = {"reconciler.domain", "reconciler.money", "reconciler.errors",
                      "reconciler.settings", "reconciler.heap"}
FORBIDDEN = ("sqlalchemy", "flask", "requests", "urllib", "socket", "http", "psycopg",
             "paramiko", "connectors", "web", "parsers")


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


@pytest.mark.parametrize("path", sorted([*(ROOT / "matchers").glob("*.py"),
                                         ROOT / "rules" / "decision.py",
                                         ROOT / "rules" / "tolerance.py"]),
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_pure_layers_import_only_the_domain(path: Path) -> None:
    for name in _imports(path):
        top = name.split(".")[0]
        assert top not in FORBIDDEN, f"{path.name} imports {name}"
        if top == "reconciler":
            assert any(name == a or name.startswith(a + ".") for a in ALLOWED_RECONCILER), \
                f"{path.name} imports {name}"
        if path.parent.name == "matchers":
            assert top != "rules", f"{path.name}: matchers do not depend on rules"
