"""Bank files in, normalised statements out. Pure: no database, no network.

`parse(data)` sniffs the format (MT940, MT942, CAMT.052/.053/.054 of any version, SWIFT block
envelopes, a business application header around the CAMT `Document`), decodes it, runs the
format's parser and then the checks every format gets (balances, control totals, statement
chain). A file that cannot be read at all raises `ParseError` naming the file and the place;
everything else is reported as diagnostics beside the statements.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import replace
from decimal import InvalidOperation
from typing import Any

from parsers.camt import parse_camt
from parsers.camt.schema import validate_camt
from parsers.checks import check_statements
from parsers.encoding import decode_text
from parsers.sniff import Sniffed, sniff
from reconciler.domain.bank import ParseResult, Statement
from reconciler.domain.common import Diagnostic, Severity
from reconciler.errors import InputError, ParseError

__all__ = ["ParseResult", "Sniffed", "check_statements", "parse", "sniff"]

MtParser = Callable[..., tuple[list[Statement], list[Diagnostic]]]


def parse(data: bytes, *, filename: str | None = None, validate: bool = False) -> ParseResult:
    """Parse a bank file of any supported format. `validate` adds XSD validation for CAMT."""
    name = filename or "<input>"
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"parse needs bytes, not {type(data).__name__}")
    data = bytes(data)
    sniffed = sniff(data, filename=name)
    if sniffed.family == "camt":
        result = parse_camt(data, filename=name, format_hint=sniffed.format)
        extra: list[Diagnostic] = []
        if validate:
            extra = validate_camt(data, result.format, filename=name)
        statements, diagnostics = result.statements, (*result.diagnostics, *extra)
        format_ = result.format
    else:
        statements_list, mt_diagnostics = _parse_mt(data, name, filename)
        statements, format_ = tuple(statements_list), sniffed.format
        diagnostics = tuple(mt_diagnostics)
        if validate:
            diagnostics += (Diagnostic(Severity.INFO, "SWIFT MT files have no XML schema; "
                                       "only the built-in checks ran", name,
                                       "schema-unavailable"),)
    checks = [_in_file(d, name) for d in check_statements(statements)]
    return ParseResult(format_, statements, (*diagnostics, *checks))


def _in_file(diagnostic: Diagnostic, name: str) -> Diagnostic:
    """Checks see statements, not files: put the file name in front of their place."""
    if diagnostic.where and diagnostic.where.startswith(name):
        return diagnostic
    place = f"{name}: {diagnostic.where}" if diagnostic.where else name
    return replace(diagnostic, where=place)


def _parse_mt(data: bytes, name: str, filename: str | None
              ) -> tuple[list[Statement], list[Diagnostic]]:
    text, _encoding = decode_text(data)
    parse_mt940 = _mt940_parser()
    try:
        statements, diagnostics = parse_mt940(text, filename=filename)
    except ParseError:
        raise
    except (InputError, ValueError, LookupError, ArithmeticError, InvalidOperation,
            TypeError, AttributeError) as exc:
        # The contract is one exception type for unreadable files, whoever tripped.
        raise ParseError(f"unreadable MT940: {type(exc).__name__}: {exc}", where=name) from None
    return list(statements), list(diagnostics)


def _mt940_parser() -> MtParser:
    """The MT940/MT942 parser lives in `parsers.mt940`, imported only when a SWIFT file comes."""
    try:
        module: Any = importlib.import_module("parsers.mt940")
    except ModuleNotFoundError as exc:
        if exc.name not in ("parsers.mt940",):
            raise
        raise ParseError("MT940/MT942 support is not installed in this build") from None
    parser: MtParser = module.parse_mt940
    return parser
