"""`parse_mt940` on whole messages: statements, transactions, diagnostics, errors."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from parsers.mt940 import parse_mt940
from reconciler.domain.bank import EntryStatus, StatementKind
from reconciler.domain.common import Severity
from reconciler.errors import ParseError
from tests.parsers_mt940.samples import GERMAN_TWO_PAGES, ING_SWIFT, MBANK_MT942


def test_german_pages_are_two_statements() -> None:
    statements, diagnostics = parse_mt940(GERMAN_TWO_PAGES, filename="spk.sta")
    assert diagnostics == []
    first, second = statements
    assert (first.account, first.currency, first.statement_id, first.sequence) == \
        ("10020030/1234567", "EUR", "STARTUMSE", "00042/001")
    assert (first.opening_balance, first.closing_balance) == (Decimal("1000.00"),
                                                              Decimal("1209.90"))
    assert (second.opening_balance, second.closing_balance) == (Decimal("1209.90"),
                                                                Decimal("960.00"))
    assert first.opening_date == dt.date(2024, 1, 2)
    assert first.kind is StatementKind.STATEMENT
    for statement in statements:
        total = sum((t.amount for t in statement.transactions), Decimal(0))
        assert statement.opening_balance is not None
        assert statement.opening_balance + total == statement.closing_balance


def test_german_transaction_fields() -> None:
    statements, _ = parse_mt940(GERMAN_TWO_PAGES)
    credit, debit = statements[0].transactions
    assert credit.amount == Decimal("250.00")
    assert credit.bank_reference == "240102A1"
    assert credit.entry_reference == "240102A1"
    assert credit.end_to_end_id == "INV-4711"
    assert credit.customer_reference == "K-1"  # :61: says KREF+, the value is in :86:
    assert credit.remittance_text == "Rechnung INV-4711 vom 1.1."
    assert credit.counterparty_iban == "DE89370400440532013000"
    assert credit.counterparty_bic == "COBADEFFXXX"
    assert credit.counterparty_name == "Kunde AG"
    assert credit.purpose_code == "166"
    assert credit.bank_transaction_code == "NTRF"
    assert ("funds_code", "R") in credit.extra
    assert credit.source_line == "line 5"
    assert credit.raw is not None
    assert credit.raw.startswith(":61:2401020102CR250,00") and "\n:86:166?00" in credit.raw
    assert debit.amount == Decimal("-40.10")
    assert debit.mandate_reference == "M-9"
    assert ("creditor_id", "DE98ZZZ09999999999") in debit.extra
    assert debit.remittance_text == "Strom"


def test_reversal_and_entry_without_details() -> None:
    statements, _ = parse_mt940(GERMAN_TWO_PAGES)
    reversal, fee = statements[1].transactions
    assert reversal.is_reversal and reversal.amount == Decimal("-250.00")
    assert fee.amount == Decimal("0.10") and fee.remittance_text is None
    assert fee.raw == ":61:2401020102CR0,10NMSCNONREF"


def test_ing_swift_envelope() -> None:
    statements, diagnostics = parse_mt940(ING_SWIFT)
    assert diagnostics == []
    (statement,) = statements
    assert statement.account == "NL77INGB0574908765"
    (transaction,) = statement.transactions
    assert transaction.customer_reference is None
    assert transaction.bank_reference == "00000000001005"
    assert transaction.end_to_end_id == "E2E-1"
    assert transaction.counterparty_name == "J. Janssen"
    assert transaction.creditor_reference == "RF18539007547034"
    assert ("supplementary_details", "/TRCD/00100/") in transaction.extra
    assert transaction.source_line == "line 8"


def test_mt942_is_a_report_with_pending_entries() -> None:
    statements, diagnostics = parse_mt940(MBANK_MT942)
    assert diagnostics == []
    (report,) = statements
    assert report.kind is StatementKind.REPORT
    assert report.currency == "PLN"
    assert report.opening_balance is None and report.closing_balance is None
    assert report.created_at == dt.datetime(2017, 1, 19, 18, 15,
                                            tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert (report.declared_count, report.declared_sum) == (2, Decimal("-0.01"))
    assert [t.status for t in report.transactions] == [EntryStatus.PENDING] * 2
    assert [t.amount for t in report.transactions] == [Decimal("0.01"), Decimal("-0.02")]


def test_bad_entry_becomes_a_diagnostic_naming_file_and_line() -> None:
    text = GERMAN_TWO_PAGES.replace(":61:2401020102DR40,10", ":61:24010X0102DR40,10")
    statements, diagnostics = parse_mt940(text, filename="spk.sta")
    assert len(statements[0].transactions) == 1
    (diagnostic,) = diagnostics
    assert diagnostic.severity is Severity.ERROR
    assert diagnostic.where == "spk.sta, line 8"
    assert "entry skipped" in diagnostic.message


def test_bad_balance_becomes_a_diagnostic() -> None:
    text = ING_SWIFT.replace(":60F:C240101EUR500,00", ":60F:C24010EUR500,00")
    statements, diagnostics = parse_mt940(text)
    assert statements[0].opening_balance is None
    assert [d.code for d in diagnostics] == ["mt940-bad-field"]
    assert diagnostics[0].where == "line 7"


def test_missing_account_and_stray_tags_are_reported() -> None:
    statements, diagnostics = parse_mt940(":25:NL1\n:20:X\n:60F:C240101EUR1,\n:62F:C240101EUR1,")
    assert statements[0].account == ""
    assert {d.code for d in diagnostics} == {"mt940-stray-tag", "mt940-no-account"}


def test_empty_statement_number() -> None:
    statements, _ = parse_mt940(":20:X\n:25:NL1\n:28C:\n:60F:C240101EUR1,\n:62F:C240101EUR1,")
    assert statements[0].sequence is None


def test_text_wrapped_tag_lookalike_stays_in_details() -> None:
    text = (":20:X\n:25:1/2\n:60F:C160229EUR10,\n:61:1602300301DR6,00N024NONREF\n"
            ":86:106?00ABC?20SVWZ+PL 12-09-2014T16\n:26:37 Fo?21lgenr. 007\n:62F:C160301EUR4,")
    statements, diagnostics = parse_mt940(text)
    assert diagnostics == []
    (transaction,) = statements[0].transactions
    assert transaction.remittance_text == "PL 12-09-2014T16:26:37 Folgenr. 007"
    assert transaction.value_date == dt.date(2016, 2, 29)


@pytest.mark.parametrize("text", ["", "hello world", "<?xml version='1.0'?><Document/>",
                                  ":61:2401020102CR250,00NTRF"])
def test_no_statement_at_all_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError) as raised:
        parse_mt940(text, filename="x.sta")
    assert raised.value.where is not None and raised.value.where.startswith("x.sta, line ")


def test_invented_tag_option_is_a_tag_not_details_text() -> None:
    # Oldenburgische Landesbank sends `:65F:` (no such option in SWIFT) with a broken value.
    text = (":20:X\n:25:1/2\n:60F:C200904EUR0,\n:61:2009040904C230,00N051NONREF\n"
            ":86:166?00GUTSCHRIFT?20SVWZ+D 8\n:62F:C200904EUR230,\n:65F:Dnullnull7414,3")
    statements, diagnostics = parse_mt940(text)
    assert statements[0].transactions[0].remittance_text == "D 8"
    assert [(d.severity, d.where) for d in diagnostics] == [(Severity.WARNING, "line 7")]
