"""Golden test over the real bank files in ../shared/bankfiles against their reference.json.

For each file the reference (an independent check) gives a verdict:
- OK: our balance check passes and, per statement, the booked entry count and sum agree;
- MISMATCH: we report a balance-mismatch (or, for the listed files, the balance lines are
  unreadable and the parser says so as an error);
- NO_BAL / ERROR / NO_STATEMENTS: the file parses or raises ParseError, nothing else.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from parsers import parse
from parsers.checks import booked_total
from reconciler.domain.bank import ParseResult
from reconciler.errors import ParseError

# MISMATCH files whose balance fields are themselves broken: the MT940 parser reports them
# as errors (a :62F: it cannot read), so there is no closing balance to compare.
UNREADABLE_BALANCES = {"wolph-mt940/self-provided/raphaelm.sta": "mt940-bad-field"}


def _reference(bankfiles: Path) -> dict[str, dict[str, Any]]:
    return json.loads((bankfiles / "reference.json").read_text(encoding="utf-8"))


def _parse(bankfiles: Path, name: str) -> ParseResult | ParseError:
    try:
        return parse((bankfiles / name).read_bytes(), filename=name)
    except ParseError as exc:
        return exc


def test_every_file_parses_or_raises_parse_error(bankfiles: Path) -> None:
    reference = _reference(bankfiles)
    assert len(reference) > 100
    outcomes = {name: _parse(bankfiles, name) for name in reference}
    parsed = [n for n, o in outcomes.items() if isinstance(o, ParseResult)]
    refused = {n: str(o) for n, o in outcomes.items() if isinstance(o, ParseError)}
    # Every refusal names its file.
    assert all(message.startswith(name) for name, message in refused.items())
    # Whatever the reference could read, we read too.
    readable = {n for n, v in reference.items() if v["verdict"] in ("OK", "MISMATCH", "NO_BAL")}
    assert readable <= set(parsed), sorted(readable - set(parsed))


def test_ok_files_balance_and_agree_with_the_reference(bankfiles: Path) -> None:
    reference = _reference(bankfiles)
    checked = 0
    problems = []
    for name, expected in reference.items():
        if expected["verdict"] != "OK":
            continue
        result = _parse(bankfiles, name)
        assert isinstance(result, ParseResult), f"{name}: {result}"
        mismatches = [d.message for d in result.diagnostics if d.code == "balance-mismatch"]
        if mismatches:
            problems.append(f"{name}: {mismatches}")
        if len(result.statements) != len(expected["statements"]):
            problems.append(f"{name}: {len(result.statements)} statements, reference "
                            f"{len(expected['statements'])}")
            continue
        for statement, ref in zip(result.statements, expected["statements"], strict=True):
            count, total = booked_total(statement.transactions)
            ref_count = ref["n_tx"] if "n_tx" in ref else ref["n_book"]
            ref_sum = Decimal(ref["sum"] if "sum" in ref else ref["sum_book"])
            if (count, total) != (ref_count, ref_sum):
                problems.append(f"{name}: {count} entries / {total}, reference "
                                f"{ref_count} / {ref_sum}")
            if statement.opening_balance != Decimal(ref["opening"]) or \
                    statement.closing_balance != Decimal(ref["closing"]):
                problems.append(f"{name}: balances {statement.opening_balance} -> "
                                f"{statement.closing_balance}, reference {ref['opening']} -> "
                                f"{ref['closing']}")
            checked += 1
    assert not problems, "\n".join(problems)
    assert checked >= 60


def test_mismatch_files_get_a_balance_mismatch(bankfiles: Path) -> None:
    reference = _reference(bankfiles)
    missing = []
    for name, expected in reference.items():
        if expected["verdict"] != "MISMATCH":
            continue
        result = _parse(bankfiles, name)
        assert isinstance(result, ParseResult), f"{name}: {result}"
        codes = {d.code for d in result.diagnostics}
        if "balance-mismatch" in codes:
            continue
        if UNREADABLE_BALANCES.get(name) in codes and result.has_errors:
            continue
        missing.append(name)
    assert not missing, missing


def test_camt_booked_sums_agree_for_balanced_and_unbalanced_files(bankfiles: Path) -> None:
    """For CAMT the reference also counts entries of MISMATCH files: ours must agree, so a
    mismatch we report is the file's, not our reading of it."""
    reference = _reference(bankfiles)
    problems = []
    for name, expected in reference.items():
        if not expected["format"].startswith("CAMT") or expected["verdict"] != "MISMATCH":
            continue
        result = _parse(bankfiles, name)
        assert isinstance(result, ParseResult)
        for statement, ref in zip(result.statements, expected["statements"], strict=True):
            count, total = booked_total(statement.transactions)
            if (count, total) != (ref["n_book"], Decimal(ref["sum_book"])):
                problems.append(f"{name}: {count} / {total} vs {ref['n_book']} / "
                                f"{ref['sum_book']}")
    assert not problems, problems


def test_postfinance_late_value_dates_are_named(bankfiles: Path) -> None:
    name = ("libeufin/testbench/camt053_P_CH2909000000250094239_1110092698_0_"
            "2020112503071366_v2019.xml")
    result = _parse(bankfiles, name)
    assert isinstance(result, ParseResult)
    (mismatch,) = [d for d in result.diagnostics if d.code == "balance-mismatch"]
    assert "value-dated after 2020-11-24" in mismatch.message


def test_bmo_bai_balance_codes(bankfiles: Path) -> None:
    result = _parse(bankfiles, "svapnil-iso20022js/bank_of_montreal/camt053_v2_1.xml")
    assert isinstance(result, ParseResult)
    (statement,) = result.statements
    assert statement.opening_balance == Decimal("26164474.57")  # Prtry 010
    assert statement.closing_balance == Decimal("25118657.50")  # Prtry 015
