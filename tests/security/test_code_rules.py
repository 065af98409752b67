"""SQL is built only through the ORM / `select()` or bound parameters, proven on the source.

Static analysis (ast) of every production package: a string handed to `text()`,
`execute()`, `exec_driver_sql()`, `executemany()`, `executescript()` or `copy()` must be a
plain literal, and no string that reads as SQL (upper-case keywords, the house style) may
be assembled with an f-string, `%`, `+` or `.format()` anywhere. A treasury database holds
who was paid what: one interpolated customer name in a query is enough to read or change it.

Justified exceptions (identifiers taken from the SQLAlchemy metadata and quoted by the
dialect, an integer read back from the database) are allow-listed by file and function with
the reason; an allow-list entry that no longer matches anything fails too, so the list stays
honest. Tests are out of scope (the conftest's TRUNCATE of table names from metadata).
"""

from __future__ import annotations

import ast
import functools
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("reconciler", "web", "connectors", "parsers", "matchers", "rules")
SINKS = frozenset({"text", "execute", "exec_driver_sql", "executemany", "executescript",
                   "copy"})
SQL_START = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|COPY|CREATE|DROP|ALTER|TRUNCATE|"
                       r"PRAGMA|WITH|GRANT|VACUUM|ANALYZE)\b")
SQL_INSIDE = re.compile(r"\b(FROM|WHERE|SET|VALUES|INTO|TABLE)\b")

ALLOWED: dict[tuple[str, str], str] = {
    ("reconciler/masterdata/bulk.py", "BulkInsert.__init__"):
        "COPY statement: table and column names come from the Table metadata, quoted by the "
        "dialect's identifier preparer; the values go through COPY's own row protocol",
    ("reconciler/masterdata/bulk.py", "BulkUpdate.__init__"):
        "temporary-table DDL and UPDATE ... FROM: identifiers from the Table metadata, quoted "
        "by the dialect, and a process-local serial number; values are COPYed, never spliced",
    ("reconciler/masterdata/bulk.py", "BulkUpdate.execute"):
        "TRUNCATE of the temporary table named in __init__ (metadata + serial number)",
    ("reconciler/masterdata/open_items.py", "_big_page_cache"):
        "PRAGMA cache_size restored from int() of the value SQLite itself returned",
}


@dataclass(frozen=True)
class Finding:
    path: str
    function: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line} in {self.function}: {self.what}"


def _constant_text(node: ast.AST) -> str:
    """The literal parts of a built string, to tell SQL from an ordinary message."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(_constant_text(v) for v in node.values)
    if isinstance(node, ast.BinOp):
        return _constant_text(node.left) + " " + _constant_text(node.right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return _constant_text(node.func.value)
    return ""


def _is_built_string(node: ast.AST) -> bool:
    """An f-string with a placeholder, `"..." % x`, `"..." + x` or `"...".format(x)`."""
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.FormattedValue) for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mod, ast.Add)):
        return bool(_constant_text(node)) or _is_built_string(node.left) or \
            _is_built_string(node.right)
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "format" and bool(_constant_text(node.func.value)))


def _looks_like_sql(node: ast.AST) -> bool:
    text = _constant_text(node)
    return bool(SQL_START.search(text)) and bool(SQL_INSIDE.search(text) or
                                                 re.match(r"\s*(PRAGMA|TRUNCATE|DROP)", text))


class SqlScanner(ast.NodeVisitor):
    def __init__(self, path: str) -> None:
        self.path = path
        self.scope: list[str] = []
        self.findings: list[Finding] = []

    def _note(self, node: ast.AST, what: str) -> None:
        self.findings.append(Finding(self.path, ".".join(self.scope) or "<module>",
                                     getattr(node, "lineno", 0), what))

    def _enter(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        self.scope.append(node.name)
        self.generic_visit(node)
        self.scope.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _enter

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else \
            func.id if isinstance(func, ast.Name) else ""
        if name in SINKS and node.args and _is_built_string(node.args[0]):
            self._note(node, f"{name}() of a formatted string")
        self.generic_visit(node)

    def _built(self, node: ast.JoinedStr | ast.BinOp | ast.Call) -> None:
        if _is_built_string(node) and _looks_like_sql(node):
            self._note(node, f"SQL assembled by formatting: {_constant_text(node)[:60]!r}")
            return  # the parts of one built statement are one finding
        self.generic_visit(node)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        self._built(node)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        self._built(node)


def scan_source(source: str, path: str = "<test>") -> list[Finding]:
    scanner = SqlScanner(path)
    scanner.visit(ast.parse(source))
    # The sink check and the SQL-text check may both see one statement: one finding a line.
    unique = {(f.path, f.line): f for f in scanner.findings}
    return list(unique.values())


@functools.cache
def production_findings() -> tuple[Finding, ...]:
    findings: list[Finding] = []
    for package in PACKAGES:
        for file in sorted((ROOT / package).rglob("*.py")):
            relative = file.relative_to(ROOT).as_posix()
            findings += scan_source(file.read_text(encoding="utf-8"), relative)
    return tuple(findings)


@pytest.mark.parametrize("source", [
    'conn.execute(text(f"SELECT * FROM t WHERE name = \'{name}\'"))',
    'session.execute("SELECT * FROM t WHERE id = %s" % ident)',
    'cursor.execute("DELETE FROM t WHERE id = " + ident)',
    'conn.execute(text("UPDATE t SET a = 1 WHERE b = \'" + b + "\'"))',
    'conn.exec_driver_sql("SELECT {} FROM t".format(column))',
    'query = f"SELECT amount FROM bank_transaction WHERE payer = \'{payer}\'"',
    'def run():\n    sql = "INSERT INTO t VALUES (%s)" % value\n    return sql',
])
def test_scanner_catches_string_built_sql(source: str) -> None:
    assert scan_source(source), source


@pytest.mark.parametrize("source", [
    'conn.execute(text("SELECT 1"))',
    'conn.execute(text("SELECT * FROM t WHERE id = :id"), {"id": ident})',
    "session.execute(select(Row).where(Row.name == name))",
    'message = f"select the file {name} from the list"',
    'raise ParseError(f"amount {value} is not a number, update the file")',
    'print("updated %d rows" % count)',
])
def test_scanner_passes_bound_parameters_and_prose(source: str) -> None:
    assert scan_source(source) == [], source


def test_no_string_built_sql_in_production_code() -> None:
    findings = production_findings()
    unexplained = [str(f) for f in findings if (f.path, f.function) not in ALLOWED]
    assert unexplained == [], "\n".join(unexplained)


def test_every_allow_list_entry_is_still_needed() -> None:
    used = {(f.path, f.function) for f in production_findings()}
    stale = [f"{path} {function}" for path, function in ALLOWED if (path, function) not in used]
    assert stale == [], f"allow-list entries that match nothing: {stale}"
