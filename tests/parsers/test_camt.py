"""CAMT features, one fixture file each (see `fixtures/`): what each field becomes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from lxml import etree

from parsers.camt.entry import part_raws
from reconciler.domain.bank import (
    Charges,
    EntryStatus,
    FxDetails,
    ParseResult,
    StatementKind,
    Transaction,
)

Parsed = Callable[..., ParseResult]


def _by_ref(result: ParseResult) -> dict[str, Transaction]:
    return {t.bank_reference or "": t for s in result.statements for t in s.transactions}


def _codes(result: ParseResult) -> list[str | None]:
    return [d.code for d in result.diagnostics]


def test_statement_header_of_a_v08_statement(parsed: Parsed) -> None:
    result = parsed("camt053_v08_features.xml")
    assert result.format == "camt.053.001.08"
    (statement,) = result.statements
    assert statement.account == "DE89370400440532013000"
    assert statement.currency == "EUR"
    assert statement.statement_id == "STMT-20261120"
    assert statement.sequence == "112"
    assert statement.kind is StatementKind.STATEMENT
    assert statement.opening_balance == Decimal("1000.00")
    assert statement.closing_balance == Decimal("1504.10")
    assert statement.opening_date == statement.closing_date == dt.date(2026, 11, 20)
    assert statement.account_owner == "Acme GmbH"
    assert statement.account_bic == "COBADEFFXXX"
    assert statement.created_at == dt.datetime(2026, 11, 20, 18, 0,
                                               tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert statement.declared_count == 8
    assert statement.declared_sum == Decimal("1503.10")
    assert statement.source_line == "/Document/BkToCstmrStmt/Stmt[1]"


def test_a_balanced_statement_has_only_the_expected_diagnostic(parsed: Parsed) -> None:
    result = parsed("camt053_v08_features.xml")
    # Booked entries add up, TxsSummry agrees; only the mistyped RF is reported.
    assert _codes(result) == ["creditor-reference-invalid"]
    assert not result.has_errors


def test_single_credit_transfer_with_every_field(parsed: Parsed) -> None:
    t = _by_ref(parsed("camt053_v08_features.xml"))["TX-001"]
    assert t.amount == Decimal("119.00")
    assert t.currency == "EUR"
    assert t.booking_date == t.value_date == dt.date(2026, 11, 20)
    assert t.entry_reference == "ENTRY-001"
    assert t.end_to_end_id == "E2E-001"
    # .08 puts the name under Dbtr/Pty; for a credit the counterparty is the debtor.
    assert t.counterparty_name == "Müller Handels AG"
    assert t.counterparty_iban == "CH9300762011623852957"
    assert t.counterparty_bic == "UBSWCHZH80A"
    assert t.ultimate_debtor == "Müller Holding"
    assert t.creditor_reference == "RF18539007547034"  # compacted, check digits hold
    assert t.remittance_text == "Invoice 4711 thank you"
    assert t.bank_transaction_code == "PMNT/RCDT/ESCT"
    assert t.purpose_code == "SUPP"
    assert t.status is EntryStatus.BOOKED
    assert t.source_line == "/Document/BkToCstmrStmt/Stmt[1]/Ntry[1]/NtryDtls/TxDtls[1]"
    assert t.raw is not None and "<Ntry" in t.raw and "E2E-001" in t.raw


def test_batch_entry_becomes_one_transaction_per_txdtls(parsed: Parsed) -> None:
    result = parsed("camt053_v08_features.xml")
    parts = [t for t in result.statements[0].transactions if t.entry_reference == "BATCH-2"]
    assert [t.amount for t in parts] == [Decimal("100.00"), Decimal("200.00")]
    assert [t.counterparty_name for t in parts] == ["Alpha SARL", "Beta BV"]
    # The first has its own bank reference; the second gets <entry ref>/<n>.
    assert [t.bank_reference for t in parts] == ["TX-2A", "BATCH-2/2"]
    assert dict(parts[1].extra)["bank_reference_derived"] == "true"
    assert "bank_reference_derived" not in dict(parts[0].extra)
    # NOTPROVIDED is SEPA's "no end-to-end id".
    assert parts[0].end_to_end_id is None
    assert parts[1].end_to_end_id == "E2E-2B"
    assert all(dict(t.extra)["entry_amount"] == "300.00" for t in parts)
    assert parts[1].source_line == "/Document/BkToCstmrStmt/Stmt[1]/Ntry[2]/NtryDtls/TxDtls[2]"


def test_each_part_of_a_batch_keeps_the_entry_with_only_its_own_txdtls(
        parsed: Parsed) -> None:
    # A batch of hundreds of payments repeated whole in each part would store the entry
    # hundreds of times; each part keeps the entry's own lines and its own details, cut
    # from the bank's text, still well-formed.
    result = parsed("camt053_v08_features.xml")
    first, second = [t for t in result.statements[0].transactions
                     if t.entry_reference == "BATCH-2"]
    assert first.raw is not None and second.raw is not None
    assert "TX-2A" in first.raw and "E2E-2B" not in first.raw
    assert "E2E-2B" in second.raw and "TX-2A" not in second.raw
    for raw in (first.raw, second.raw):
        assert raw.startswith("<Ntry") and raw.count("<TxDtls>") == 1 and "BATCH-2" in raw
        etree.fromstring(raw.encode())


def test_part_raws_keep_the_whole_entry_when_the_details_do_not_add_up() -> None:
    entry = "<Ntry><NtryDtls><TxDtls><A>1</A></TxDtls><TxDtls/></NtryDtls></Ntry>"
    assert part_raws(entry, 2) == [entry, entry]
    assert part_raws(None, 2) == [None, None]


def test_failed_rf_check_keeps_the_reference_as_text_and_warns(parsed: Parsed) -> None:
    result = parsed("camt053_v08_features.xml")
    t = _by_ref(result)["BATCH-2/2"]
    assert t.creditor_reference is None
    assert t.remittance_text == "RF19539007547034"
    (warning,) = [d for d in result.diagnostics if d.code == "creditor-reference-invalid"]
    assert warning.severity.value == "warning"
    assert "RF19539007547034" in warning.message
    assert warning.where is not None and "Ntry[2]/NtryDtls/TxDtls[2]" in warning.where


def test_direct_debit_with_mandate_and_charges(parsed: Parsed) -> None:
    t = _by_ref(parsed("camt053_v08_features.xml"))["ENTRY-003"]
    assert t.amount == Decimal("-50.00")
    # A debit's counterparty is the creditor we paid.
    assert t.counterparty_name == "Stadtwerke Musterstadt"
    assert t.counterparty_iban == "DE02120300000000202051"
    assert t.counterparty_bic == "BYLADEM1001"
    assert t.mandate_reference == "MNDT-77"
    assert t.charges == Charges(Decimal("2.50"), "EUR", included=True, bearer="SLEV")
    assert t.bank_transaction_code == "PMNT/IDDT/ESDD"
    # DtTm: the booking day is the date part.
    assert t.booking_date == dt.date(2026, 11, 20)


def test_fx_details_from_instructed_amount(parsed: Parsed) -> None:
    t = _by_ref(parsed("camt053_v08_features.xml"))["TX-004"]
    assert t.amount == Decimal("85.10")  # the single TxDtls takes the entry amount
    assert t.fx == FxDetails(Decimal("100.00"), "USD", Decimal("0.851"))


def test_return_reason_reversal_pending_and_proprietary_code(parsed: Parsed) -> None:
    by_ref = _by_ref(parsed("camt053_v08_features.xml"))
    returned = by_ref["ENTRY-005"]
    assert returned.return_reason == "AC04"
    assert returned.counterparty_name == "Delta Oy"  # only the creditor side was given
    assert dict(returned.extra)["return_additional_info"] == "Account closed"
    reversal = by_ref["ENTRY-006"]
    assert reversal.is_reversal and reversal.amount == Decimal("-10.00")
    assert reversal.bank_transaction_code == "NRTI+117"
    pending = by_ref["ENTRY-007"]
    assert pending.status is EntryStatus.PENDING and pending.booking_date is None


def test_swiss_qrr_reference_is_checked_and_kept(parsed: Parsed) -> None:
    t = _by_ref(parsed("camt053_v08_features.xml"))["ENTRY-008"]
    assert t.creditor_reference == "210000000003139471430009017"
    assert t.remittance_text is None


def test_v02_text_status_prcd_balance_without_indicator(parsed: Parsed) -> None:
    result = parsed("camt053_v02_two_statements.xml")
    assert result.format == "camt.053.001.02"
    first, second = result.statements
    # PRCD (previous closing booked) serves as opening; no CdtDbtInd reads as credit.
    assert first.opening_balance == Decimal("500.00")
    assert first.opening_date == dt.date(2026, 11, 19)
    assert first.closing_balance == Decimal("450.00")
    assert first.declared_count == 2 and first.declared_sum == Decimal("-50.00")
    credit, debit = first.transactions
    assert credit.status is EntryStatus.BOOKED
    assert credit.counterparty_name == "Jan Jansen"  # .02: Dbtr/Nm
    assert credit.counterparty_bic == "INGBNL2A"  # .02: BIC, not BICFI
    assert credit.ultimate_debtor == "Jansen Beheer BV"
    assert credit.bank_reference == "NL-E1"
    assert credit.booking_date == dt.date(2026, 11, 20)
    assert debit.counterparty_iban == "123456789"  # Othr/Id when there is no IBAN
    assert debit.charges == Charges(Decimal("1.00"), "EUR", included=True, bearer="DEBT")
    assert second.transactions == ()


def test_chain_break_and_sequence_gap_between_statements(parsed: Parsed) -> None:
    result = parsed("camt053_v02_two_statements.xml")
    codes = _codes(result)
    assert "balance-mismatch" not in codes
    assert codes.count("chain-break") == 1 and codes.count("sequence-gap") == 1
    chain = next(d for d in result.diagnostics if d.code == "chain-break")
    assert "460.00" in chain.message and "450.00" in chain.message
    assert chain.where == "camt053_v02_two_statements.xml: /Document/BkToCstmrStmt/Stmt[2]"


def test_camt052_report(parsed: Parsed) -> None:
    result = parsed("camt052_v08_report.xml")
    assert result.format == "camt.052.001.08"
    (report,) = result.statements
    assert report.kind is StatementKind.REPORT
    # An intraday report has no booked opening/closing pair: nothing to balance.
    assert report.opening_balance is None and report.closing_balance is None
    assert [t.status for t in report.transactions] == [EntryStatus.BOOKED, EntryStatus.INFO]
    assert report.source_line == "/Document/BkToCstmrAcctRpt/Rpt[1]"
    assert not result.diagnostics


def test_camt054_batch_amounts_from_amtdtls_and_isr(parsed: Parsed) -> None:
    result = parsed("camt054_v04_notification.xml")
    assert result.format == "camt.054.001.04"
    (notification,) = result.statements
    assert notification.kind is StatementKind.NOTIFICATION
    first, second, isr = notification.transactions
    assert (first.amount, second.amount) == (Decimal("-10.00"), Decimal("-20.00"))
    assert (first.bank_reference, second.bank_reference) == ("N-1/1", "N-1/2")
    assert (first.counterparty_name, second.counterparty_name) == ("Zeta AG", "Eta GmbH")
    assert isr.creditor_reference == "100041698214115449371805278"
    assert isr.return_reason == "MD06"
    assert isr.bank_reference == "ISR-TX-1"
    assert not result.diagnostics


def test_application_header_wrapping_the_document(parsed: Parsed) -> None:
    result = parsed("camt053_apphdr.xml")
    assert result.format == "camt.053.001.04"
    (statement,) = result.statements
    assert statement.account == "0532013000"  # Othr/Id
    assert statement.opening_balance == Decimal("-10.00")  # DBIT balance
    (t,) = statement.transactions
    # No TxDtls and no AcctSvcrRef: the entry's NtryRef is the reference.
    assert t.entry_reference == t.bank_reference == "AH-E1"
    assert statement.source_line == "/BizMsg/Document/BkToCstmrStmt/Stmt[1]"
    assert not result.diagnostics


def test_mismatch_and_summary_diagnostics(parsed: Parsed) -> None:
    result = parsed("camt053_mismatch.xml")
    mismatch = next(d for d in result.diagnostics if d.code == "balance-mismatch")
    assert mismatch.severity.value == "error"
    assert "opening 100.00 + booked entries 20.00 = 120.00" in mismatch.message
    assert "closing balance is 110.00" in mismatch.message
    # The PostFinance case: the entry value-dated after the closing date explains it.
    assert "value-dated after 2026-11-20" in mismatch.message
    summary = next(d for d in result.diagnostics if d.code == "summary-mismatch")
    assert summary.severity.value == "warning"
    assert "declares 3 entries but has 2" in summary.message
    assert result.has_errors


def test_no_namespace_and_latin1_declaration() -> None:
    from parsers import parse

    xml = ('<?xml version="1.0" encoding="ISO-8859-1"?><Document><BkToCstmrStmt><Stmt>'
           "<Id>S</Id><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id></Acct>"
           '<Ntry><Amt Ccy="EUR">1.50</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>'
           "<NtryDtls><TxDtls><RltdPties><Dbtr><Nm>Jürgen Größ</Nm></Dbtr></RltdPties>"
           "</TxDtls></NtryDtls></Ntry></Stmt></BkToCstmrStmt></Document>").encode("latin-1")
    result = parse(xml, filename="latin1.xml")
    assert result.format == "camt.053"  # no namespace: version unknown
    (t,) = result.statements[0].transactions
    assert t.counterparty_name == "Jürgen Größ"
    assert result.statements[0].currency == "EUR"  # from the entry: no Acct/Ccy


def test_undeclared_windows_1252_is_read_as_such() -> None:
    from parsers import parse

    xml = ("<Document><BkToCstmrStmt><Stmt><Id>S</Id><Acct><Id><IBAN>X</IBAN></Id></Acct>"
           '<Ntry><Amt Ccy="EUR">2</Amt><CdtDbtInd>DBIT</CdtDbtInd>'
           "<NtryDtls><TxDtls><RmtInf><Ustrd>Gebühr – 5 €</Ustrd></RmtInf></TxDtls></NtryDtls>"
           "</Ntry></Stmt></BkToCstmrStmt></Document>").encode("cp1252")
    (t,) = parse(xml, filename="ansi.xml").statements[0].transactions
    assert t.remittance_text == "Gebühr – 5 €"
    assert t.amount == Decimal("-2")


def test_utf8_bom_is_accepted(fixture_bytes: Callable[[str], bytes]) -> None:
    from parsers import parse

    result = parse(b"\xef\xbb\xbf" + fixture_bytes("camt052_v08_report.xml"))
    assert result.statements[0].statement_id == "RPT-20261120-12"


def test_validate_reports_schema_errors_with_lines(parsed: Parsed) -> None:
    assert not [d for d in parsed("camt053_v08_features.xml", validate=True).diagnostics
                if d.code == "schema-invalid"]
    result = parsed("camt053_v02_two_statements.xml", validate=True)
    invalid = [d for d in result.diagnostics if d.code == "schema-invalid"]
    # The PRCD balance has no CdtDbtInd, which the schema requires (line 16 is its Dt).
    assert invalid and invalid[0].where == "camt053_v02_two_statements.xml: line 16"
    unavailable = parsed("camt052_v08_report.xml", validate=True)
    assert "schema-invalid" not in _codes(unavailable)


def test_paginated_statement_uses_the_interim_balance(parsed: Parsed) -> None:
    result = parsed("camt053_paginated.xml", validate=True)
    assert result.format == "camt.053.001.13"
    first, second = result.statements
    assert (first.opening_balance, first.closing_balance) == (Decimal("100.00"),
                                                              Decimal("105.00"))
    assert (second.opening_balance, second.closing_balance) == (Decimal("105.00"),
                                                                Decimal("99.00"))
    # Both pages balance, chain, and share their statement number: nothing to report.
    assert result.diagnostics == ()


def test_utf16_file_is_read(fixture_bytes: Callable[[str], bytes]) -> None:
    from parsers import parse

    text = fixture_bytes("camt053_apphdr.xml").decode("utf-8").replace('encoding="UTF-8"',
                                                                      'encoding="UTF-16"')
    result = parse(text.encode("utf-16"), filename="utf16.xml")
    assert result.statements[0].statement_id == "AH-STMT-1"


def test_apphdr_document_is_validated_in_place(parsed: Parsed) -> None:
    result = parsed("camt053_apphdr.xml", validate=True)
    assert not [d for d in result.diagnostics if d.code == "schema-invalid"]
