"""Properties every parse result keeps, whatever the format, and the parsers' layer rule."""

from __future__ import annotations

import ast
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from parsers import parse
from reconciler.domain.bank import ParseResult, Statement, Transaction
from reconciler.domain.common import Diagnostic

HERE = Path(__file__).parent
PARSERS = HERE.parents[1] / "parsers"
FIXTURES = sorted((HERE / "fixtures").glob("*.xml"))
MT940 = (b"{1:F01BANKDEFFAXXX0000000000}{2:O9400000000000BANKDEFFAXXX00000000000000000000N}{4:\r\n"
         b":20:REF1\r\n:25:DE89370400440532013000\r\n:28C:1/1\r\n:60F:C261119EUR100,00\r\n"
         b":61:2611201120CR25,00NTRFNONREF//BANK1\r\n:86:166?00GUTSCHRIFT?20EREF+E2E1\r\n"
         b":62F:C261120EUR125,00\r\n-}")
# Only what the parsers may use: their own package, the domain model, money and errors,
# the standard library and their own third-party libraries (lxml, mt-940).
ALLOWED = ("parsers", "reconciler.domain", "reconciler.money", "reconciler.errors", "lxml",
           "mt940")


def _inputs() -> list[tuple[str, bytes]]:
    return [(p.name, p.read_bytes()) for p in FIXTURES] + [("mt940.sta", MT940)]


@pytest.mark.parametrize(("name", "data"), _inputs(), ids=[n for n, _ in _inputs()])
def test_results_are_typed_and_deterministic(name: str, data: bytes) -> None:
    first = parse(data, filename=name)
    assert parse(bytes(data), filename=name) == first
    assert isinstance(first, ParseResult) and first.statements
    for statement in first.statements:
        assert isinstance(statement, Statement)
        for balance in (statement.opening_balance, statement.closing_balance):
            assert balance is None or isinstance(balance, Decimal)
        for t in statement.transactions:
            assert isinstance(t, Transaction)
            assert isinstance(t.amount, Decimal) and t.currency
            assert t.booking_date is None or type(t.booking_date) is dt.date
            assert all(isinstance(k, str) and isinstance(v, str) for k, v in t.extra)
            assert t.source_line
    assert all(isinstance(d, Diagnostic) and d.code for d in first.diagnostics)


def test_parsers_import_only_what_their_layer_allows() -> None:
    import sys

    stdlib = set(sys.stdlib_module_names)
    offenders = []
    for path in PARSERS.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            for name in names:
                if name.split(".")[0] in stdlib or name == "__future__":
                    continue
                if not any(name == a or name.startswith(a + ".") for a in ALLOWED):
                    offenders.append(f"{path.relative_to(PARSERS)}: {name}")
    assert not offenders, offenders
