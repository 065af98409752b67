"""ISO 20022 CAMT bank-to-customer messages: camt.052 (intraday report), camt.053 (statement)
and camt.054 (debit/credit notification), versions .02 to .13, read by one streaming,
namespace-agnostic reader."""

from __future__ import annotations

import io
from typing import BinaryIO

from parsers.camt.reader import CamtEvent, CamtReader, StatementEnd, StatementStart
from reconciler.domain.bank import ParseResult, Statement, Transaction
from reconciler.domain.common import Diagnostic
from reconciler.errors import ParseError

__all__ = ["CamtEvent", "CamtReader", "StatementEnd", "StatementStart", "parse_camt",
           "parse_camt_stream"]


def parse_camt(data: bytes, *, filename: str = "<input>", keep_raw: bool = True,
               format_hint: str | None = None) -> ParseResult:
    """Parse a whole CAMT file held in memory into statements and diagnostics.

    An XML file with no encoding declaration must be UTF-8; files from older systems that
    are really Windows-1252 are read again as such rather than refused.
    """
    try:
        return parse_camt_stream(io.BytesIO(data), filename=filename, keep_raw=keep_raw,
                                 format_hint=format_hint)
    except ParseError as exc:
        if not _is_encoding_problem(exc) or _has_declared_encoding(data):
            raise
    return parse_camt_stream(io.BytesIO(data), filename=filename, keep_raw=keep_raw,
                             format_hint=format_hint, encoding="windows-1252")


def parse_camt_stream(source: BinaryIO, *, filename: str = "<input>", keep_raw: bool = True,
                      format_hint: str | None = None, encoding: str | None = None
                      ) -> ParseResult:
    reader = CamtReader(source, filename=filename, keep_raw=keep_raw, encoding=encoding,
                        format_hint=format_hint)
    statements: list[Statement] = []
    diagnostics: list[Diagnostic] = []
    transactions: list[Transaction] = []
    for event in reader:
        if isinstance(event, Transaction):
            transactions.append(event)
        elif isinstance(event, Diagnostic):
            diagnostics.append(event)
        elif isinstance(event, StatementStart):
            transactions = []
        elif isinstance(event, StatementEnd):
            statements.append(_with_transactions(event.statement, transactions))
    return ParseResult(reader.format or format_hint or "camt", tuple(statements),
                       tuple(diagnostics))


def _with_transactions(statement: Statement, transactions: list[Transaction]) -> Statement:
    from dataclasses import replace

    return replace(statement, transactions=tuple(transactions))


def _is_encoding_problem(exc: ParseError) -> bool:
    text = str(exc).lower()
    return "utf-8" in text or "encoding" in text or "invalid char" in text


def _has_declared_encoding(data: bytes) -> bool:
    from parsers.encoding import declared_xml_encoding

    return declared_xml_encoding(data[:200]) is not None
