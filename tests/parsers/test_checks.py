"""The checks every format gets, on statements written in the domain's own terms."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from parsers.checks import check_statements
from reconciler.domain.bank import EntryStatus, Statement, Transaction

D = Decimal


def tx(amount: str, status: EntryStatus = EntryStatus.BOOKED, **extra: str) -> Transaction:
    return Transaction(amount=D(amount), currency="EUR", booking_date=None, value_date=None,
                       status=status, extra=tuple(extra.items()))


def statement(opening: str | None, closing: str | None, *transactions: Transaction,
              sequence: str | None = None, account: str = "DE89370400440532013000",
              **kwargs: object) -> Statement:
    return Statement(account=account, currency="EUR", statement_id=sequence, sequence=sequence,
                     opening_balance=None if opening is None else D(opening),
                     closing_balance=None if closing is None else D(closing),
                     opening_date=None, closing_date=None, transactions=transactions,
                     **kwargs)  # type: ignore[arg-type]


def codes(*statements: Statement) -> list[str | None]:
    return [d.code for d in check_statements(statements)]


def test_balanced_statement_is_clean() -> None:
    assert codes(statement("100.00", "70.00", tx("-50.00"), tx("20.00"))) == []


def test_pending_and_info_entries_stay_out_of_the_balance() -> None:
    s = statement("100", "120", tx("20"), tx("999", EntryStatus.PENDING),
                  tx("-5", EntryStatus.INFO))
    assert codes(s) == []


def test_balance_mismatch_names_the_figures() -> None:
    (diagnostic,) = check_statements([statement("100.00", "130.00", tx("20.00"))])
    assert diagnostic.code == "balance-mismatch"
    assert diagnostic.severity.value == "error"
    assert "opening 100.00 + booked entries 20.00 = 120.00" in diagnostic.message
    assert "closing balance is 130.00" in diagnostic.message
    assert "difference 10.00 EUR" in diagnostic.message


def test_statement_without_balance_pair_is_not_judged() -> None:
    assert codes(statement(None, "5", tx("1")), statement("5", None, tx("1"))) == []


def test_batch_parts_count_once_with_the_entry_amount() -> None:
    # The bank booked 100.00; the parts' details say 99.00 (a charge deducted elsewhere).
    parts = [tx("60.00", entry_amount="100.00", entry_path="/S/Ntry[1]"),
             tx("39.00", entry_amount="100.00", entry_path="/S/Ntry[1]")]
    s = statement("0", "100.00", *parts, declared_count=1, declared_sum=D("100.00"))
    assert codes(s) == []


def test_summary_mismatch() -> None:
    s = statement(None, None, tx("1"), tx("2"), declared_count=3, declared_sum=D("4"))
    (diagnostic,) = check_statements([s])
    assert diagnostic.code == "summary-mismatch" and diagnostic.severity.value == "warning"
    assert "declares 3 entries but has 2" in diagnostic.message
    assert "net total of 4 but its entries add up to 3" in diagnostic.message


def test_chain_and_sequence_per_account() -> None:
    a1 = statement("0", "10", tx("10"), sequence="1")
    other = statement("0", "0", sequence="9", account="NL91ABNA0417164300")
    a2 = statement("10", "10", sequence="2")
    a4 = statement("11", "11", sequence="4")
    assert codes(a1, other, a2) == []
    assert codes(a1, a2, a4) == ["chain-break", "sequence-gap"]


def test_mt940_statement_and_page_numbers() -> None:
    first = statement("0", "0", sequence="00012/001")
    assert codes(first, replace(first, sequence="00012/002")) == []
    assert codes(first, replace(first, sequence="00013/001")) == []
    assert codes(first, replace(first, sequence="00012/004")) == ["sequence-gap"]
    # A repeated number or a restart (new year) is not judged a gap.
    assert codes(first, replace(first, sequence="00012/001")) == []
    assert codes(first, replace(first, sequence="1/1")) == []
