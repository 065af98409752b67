"""The real bank files in shared/bankfiles: every MT940/MT942 file listed in reference.json.

reference.json is an independent second opinion: per statement the transaction count, sum
and balances, and a verdict. Where it says OK, we must agree exactly. Where the reference
parser failed (ERROR) or the file does not add up (MISMATCH), we must still either read the
file or refuse it with ParseError, never crash.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from parsers.mt940 import parse_mt940
from reconciler.domain.bank import Statement, StatementKind
from reconciler.errors import ParseError

MT94X = ("MT940", "MT942")


def decode(data: bytes) -> str:
    """The test's own decoding (production decodes in the top-level parser API).

    UTF-8 (with or without BOM), else Windows-1252; bytes that cp1252 leaves undefined
    (0x81 in a Raiffeisen file) mean Latin-1, which decodes anything.
    """
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def reference(bankfiles: Path) -> dict[str, Any]:
    entries: dict[str, Any] = json.loads((bankfiles / "reference.json").read_text("utf-8"))
    return {name: entry for name, entry in entries.items() if entry["format"] in MT94X}


def parse_file(bankfiles: Path, name: str) -> list[Statement]:
    statements, _ = parse_mt940(decode((bankfiles / name).read_bytes()), filename=name)
    return statements


def test_reference_lists_the_mt94x_files(bankfiles: Path) -> None:
    assert len(reference(bankfiles)) >= 80


def test_every_file_parses_or_raises_parse_error(bankfiles: Path) -> None:
    read = refused = 0
    for name in reference(bankfiles):
        try:
            statements = parse_file(bankfiles, name)
        except ParseError:
            refused += 1
            continue
        assert statements, name
        read += 1
    assert read > 80 and refused == 0


def _agreement(statement: Statement, expected: dict[str, Any]) -> list[str]:
    problems = []
    total = sum((t.amount for t in statement.transactions), Decimal(0))
    if len(statement.transactions) != expected["n_tx"]:
        problems.append(f"count {len(statement.transactions)} != {expected['n_tx']}")
    if total != Decimal(expected["sum"]):
        problems.append(f"sum {total} != {expected['sum']}")
    for ours, key in ((statement.opening_balance, "opening"),
                      (statement.closing_balance, "closing")):
        theirs = expected[key]
        if (ours is None) != (theirs is None) or (theirs is not None and ours != Decimal(theirs)):
            problems.append(f"{key} {ours} != {theirs}")
    return problems


def test_ok_verdicts_agree_with_reference(bankfiles: Path) -> None:
    checked = 0
    failures: list[str] = []
    for name, entry in reference(bankfiles).items():
        if entry["verdict"] != "OK":
            continue
        statements = parse_file(bankfiles, name)
        if len(statements) != len(entry["statements"]):
            failures.append(f"{name}: {len(statements)} statements, "
                            f"reference {len(entry['statements'])}")
            continue
        for statement, expected in zip(statements, entry["statements"], strict=True):
            failures += [f"{name} #{expected['idx']}: {p}" for p in _agreement(statement, expected)]
        checked += 1
    assert failures == []
    assert checked >= 35


def test_asn_and_sns_files_the_library_fails_on_balance(bankfiles: Path) -> None:
    """ASN / SNS put an IBAN in the :61: reference: mt-940 fails, tryton's parser reads them.

    Every statement tryton finds balanced must balance for us too.
    """
    names = [name for name, entry in reference(bankfiles).items()
             if entry["verdict"] == "ERROR"
             and ("asn" in name.lower() or "sns" in name.lower())]
    assert len(names) >= 4
    for name in names:
        statements = parse_file(bankfiles, name)
        tryton = reference(bankfiles)[name]["tryton"]
        assert len(statements) == len(tryton), name
        for statement, verdict in zip(statements, tryton, strict=True):
            if verdict != "OK":
                continue
            total = sum((t.amount for t in statement.transactions), Decimal(0))
            assert statement.opening_balance is not None, name
            assert statement.opening_balance + total == statement.closing_balance, name


def test_mt942_files_are_reports(bankfiles: Path) -> None:
    names = [name for name, entry in reference(bankfiles).items() if entry["format"] == "MT942"]
    assert names
    for name in names:
        statements = parse_file(bankfiles, name)
        assert [s.kind for s in statements] == [StatementKind.REPORT] * len(statements)
        expected = reference(bankfiles)[name]["statements"]
        assert [len(s.transactions) for s in statements] == [e["n_tx"] for e in expected]


def test_webschik_expected_json(bankfiles: Path) -> None:
    """The JavaScript parser's expected output beside its inputs: entries one by one."""
    folder = bankfiles / "webschik-mt940-js"
    compared = 0
    for expected_file in sorted(folder.glob("*.json")):
        source = next(p for p in folder.iterdir()
                      if p.stem == expected_file.stem and p.suffix != ".json")
        statements = parse_file(bankfiles, f"webschik-mt940-js/{source.name}")
        expected_statements = json.loads(expected_file.read_text("utf-8"))
        assert len(statements) == len(expected_statements), source.name
        for statement, expected in zip(statements, expected_statements, strict=True):
            assert statement.statement_id == expected["referenceNumber"]
            assert len(statement.transactions) == len(expected["transactions"])
            for ours, theirs in zip(statement.transactions, expected["transactions"],
                                    strict=True):
                sign = 1 if theirs["isCredit"] else -1
                assert ours.amount == sign * Decimal(str(theirs["amount"])), source.name
                assert ours.currency == theirs["currency"]
                assert ours.value_date is not None
                assert ours.value_date.isoformat() == theirs["valueDate"]
                if theirs["entryDate"]:
                    assert ours.booking_date is not None
                    assert ours.booking_date.isoformat() == theirs["entryDate"]
                assert (ours.bank_reference or "") == theirs["bankReference"]
                assert ours.bank_transaction_code == theirs["code"]
                if theirs["customerReference"] not in ("", "NONREF"):
                    assert ours.customer_reference == theirs["customerReference"]
                compared += 1
    assert compared >= 10
