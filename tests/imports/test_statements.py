"""Statement import: idempotency, duplicates across files, 054/053 linking, quarantine."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from reconciler.db.bank import BankFileRow, StatementRow, TransactionRow
from reconciler.db.session import Database
from reconciler.statements import FileImportResult, derive_reference, import_file
from tests.imports.helpers import FIXTURES, assert_journal_verifies, count, journal_rows


def _load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def _import(db: Database, name: str, data: bytes | None = None, *, source: str | None = None,
            quarantine_dir: Path | None = None) -> FileImportResult:
    return import_file(db, _load(name) if data is None else data, name, source=source,
                       quarantine_dir=quarantine_dir)


def _transactions(db: Database) -> list[TransactionRow]:
    with db.session() as s:
        return list(s.scalars(select(TransactionRow).order_by(TransactionRow.id)))


def test_camt053_is_stored(db: Database) -> None:
    result = _import(db, "camt053_day1.xml", source="main_bank")
    assert result.status == "imported" and result.format == "camt.053.001.08"
    assert (result.statements_new, result.transactions_new, result.transactions_linked) == (
        1, 3, 0)
    assert result.diagnostics == ()
    with db.session() as s:
        stored = s.get(BankFileRow, result.file_id)
        assert stored is not None and stored.content == _load("camt053_day1.xml")
        assert (stored.status, stored.source, stored.sha256) == ("imported", "main_bank",
                                                                 result.sha256)
        statement = s.scalars(select(StatementRow)).one()
        assert (statement.statement_id, statement.sequence, statement.kind) == (
            "STMT-2026-11-20", "320", "statement")
        assert statement.balance_ok is True
        assert statement.closing_balance == Decimal("13546.20")
    credit, debit, unreferenced = _transactions(db)
    assert (credit.amount, credit.state, credit.bank_reference) == (
        Decimal("1190.00"), "unreconciled", "ACSR-0001")
    assert credit.creditor_reference == "RF18539007547034"
    assert credit.counterparty_iban == "DE44500105175407324931"
    assert (debit.amount, debit.state) == (Decimal("-12.30"), "not_receivable")
    assert unreferenced.state == "unreconciled"
    assert unreferenced.bank_reference and unreferenced.details["bank_reference_derived"]
    (entry,) = journal_rows(db)
    assert entry.action == "bank_file.imported" and entry.data["transactions_new"] == 3
    assert_journal_verifies(db)


def test_same_bytes_twice_adds_nothing(db: Database) -> None:
    first = _import(db, "camt053_day1.xml")
    again = _import(db, "camt053_day1.xml")
    assert again.status == "duplicate" and again.file_id == first.file_id
    assert "nothing new" in again.message
    assert (again.statements_new, again.transactions_new) == (0, 0)
    assert count(db, BankFileRow) == 1 and count(db, TransactionRow) == 3
    assert len(journal_rows(db)) == 1


def test_same_statement_inside_another_file_adds_nothing(db: Database) -> None:
    _import(db, "camt053_day1.xml")
    resent = _import(db, "camt053_day1_resent.xml")
    assert resent.status == "imported"  # new bytes: the file itself is kept
    assert (resent.statements_new, resent.statements_duplicate, resent.transactions_new) == (
        0, 1, 0)
    assert any(d.code == "statement-duplicate" for d in resent.diagnostics)
    assert count(db, BankFileRow) == 2
    assert count(db, StatementRow) == 1 and count(db, TransactionRow) == 3
    assert_journal_verifies(db)


def test_camt054_then_camt053_links_the_later_entry(db: Database) -> None:
    advice = _import(db, "camt054_advice.xml")
    assert (advice.statements_new, advice.transactions_new) == (1, 2)
    statement = _import(db, "camt053_day1.xml")
    assert (statement.transactions_new, statement.transactions_linked) == (3, 1)
    rows = _transactions(db)
    notified, pending = rows[0], rows[1]
    assert (notified.state, pending.state) == ("unreconciled", "pending")
    booked = next(r for r in rows[2:] if r.bank_reference == "ACSR-0001")
    assert (booked.state, booked.linked_to_id) == ("linked", notified.id)
    # Only one copy of the payment is left for the matchers.
    assert [r.bank_reference for r in rows if r.state == "unreconciled"].count("ACSR-0001") == 1
    assert_journal_verifies(db)


def test_camt053_then_camt054_links_the_advice(db: Database) -> None:
    _import(db, "camt053_day1.xml")
    advice = _import(db, "camt054_advice.xml")
    assert advice.transactions_linked == 1
    rows = _transactions(db)
    first = next(r for r in rows if r.bank_reference == "ACSR-0001")
    later = [r for r in rows if r.bank_reference == "ACSR-0001" and r.id != first.id]
    assert first.state == "unreconciled"
    assert [(r.state, r.linked_to_id) for r in later] == [("linked", first.id)]


def test_no_link_on_another_amount_or_day(db: Database) -> None:
    data = _load("camt054_advice.xml").replace(b"<Amt Ccy=\"EUR\">1190.00</Amt>",
                                               b"<Amt Ccy=\"EUR\">1190.01</Amt>")
    _import(db, "camt054_advice.xml", data)
    result = _import(db, "camt053_day1.xml")
    assert result.transactions_linked == 0


def test_mt940_derived_references_and_balance_check(db: Database) -> None:
    result = _import(db, "mt940_day2.sta")
    assert result.status == "imported" and result.format == "mt940"
    rows = _transactions(db)
    assert [r.state for r in rows] == ["unreconciled", "not_receivable", "unreconciled"]
    assert rows[0].bank_reference == "BREF-7001"
    assert not rows[0].details["bank_reference_derived"]
    for row in rows[1:]:
        assert row.bank_reference.startswith("X-") and len(row.bank_reference) == 18
        assert row.details["bank_reference_derived"] is True
    with db.session() as s:
        assert s.scalars(select(StatementRow.balance_ok)).one() is True
    # The same statement with a wrong closing balance, in a file of its own: the statement
    # key is the same, so nothing is added; the derived references are stable.
    changed = _load("mt940_day2.sta").replace(b"14126,19", b"14125,19")
    again = _import(db, "mt940_day2_copy.sta", changed)
    assert (again.statements_duplicate, again.transactions_new) == (1, 0)
    assert any(d.code == "balance-mismatch" for d in again.diagnostics)


def test_unbalanced_statement_is_stored_with_balance_flag(db: Database) -> None:
    data = _load("mt940_day2.sta").replace(b"14126,19", b"14125,19")
    result = _import(db, "mt940_day2.sta", data)
    assert result.status == "imported"
    assert any(d.code == "balance-mismatch" for d in result.diagnostics)
    with db.session() as s:
        assert s.scalars(select(StatementRow.balance_ok)).one() is False
        stored = s.get(BankFileRow, result.file_id)
        assert stored is not None
        assert [d["code"] for d in stored.diagnostics] == ["balance-mismatch"]


def test_broken_file_is_quarantined_and_others_go_on(db: Database, tmp_path: Path) -> None:
    quarantine = tmp_path / "quarantine"
    good = _import(db, "camt054_advice.xml", quarantine_dir=quarantine)
    bad = _import(db, "broken_camt053.xml", quarantine_dir=quarantine)
    after = _import(db, "mt940_day2.sta", quarantine_dir=quarantine)
    assert (good.status, bad.status, after.status) == ("imported", "quarantined", "imported")
    assert "malformed XML" in bad.message and "line 4" in bad.message
    with db.session() as s:
        row = s.get(BankFileRow, bad.file_id)
        assert row is not None and row.status == "quarantined"
        assert row.content == _load("broken_camt053.xml") and "malformed XML" in (row.error or "")
    (copy,) = quarantine.iterdir()
    assert copy.read_bytes() == _load("broken_camt053.xml")
    assert count(db, TransactionRow) == 5
    again = _import(db, "broken_camt053.xml")
    assert again.status == "quarantined" and again.file_id == bad.file_id
    assert count(db, BankFileRow) == 3
    assert [e.action for e in journal_rows(db)] == [
        "bank_file.imported", "bank_file.quarantined", "bank_file.imported"]
    assert_journal_verifies(db)


def test_derived_reference_is_stable() -> None:
    from reconciler.domain import Transaction

    tx = Transaction(amount=Decimal("99.99"), currency="EUR", booking_date=None,
                     value_date=None)
    first = derive_reference("DE89370400440532013000", tx, 3, "STARTUMSE")
    assert first == derive_reference("DE89370400440532013000", tx, 3, "STARTUMSE")
    assert first != derive_reference("DE89370400440532013000", tx, 4, "STARTUMSE")


def test_repeated_key_inside_one_file_keeps_every_statement(db: Database) -> None:
    single = _load("mt940_day2.sta")
    other = single.replace(b"CR500,00", b"CR400,00").replace(b"14126,19", b"14026,19")
    result = _import(db, "two.sta", single + other)
    assert (result.statements_new, result.transactions_new) == (2, 6)
    assert any(d.code == "statement-key-repeated" for d in result.diagnostics)
    with db.session() as s:
        assert sorted(s.scalars(select(StatementRow.sequence))) == ["00321/001", "00321/001#2"]
    again = _import(db, "two-again.sta", single + other + b"\r\n")
    assert (again.statements_new, again.statements_duplicate) == (0, 2)


def test_same_key_with_other_entries_is_a_warning(db: Database) -> None:
    _import(db, "mt940_day2.sta")
    changed = _load("mt940_day2.sta").replace(b"CR500,00", b"CR400,00")
    result = _import(db, "mt940_day2_changed.sta", changed)
    assert (result.statements_duplicate, result.transactions_new) == (1, 0)
    (conflict,) = [d for d in result.diagnostics if d.code == "statement-conflict"]
    assert "NOT added" in conflict.message and "479.99" in conflict.message


def test_amount_the_database_cannot_hold_quarantines_the_file(db: Database) -> None:
    data = _load("camt053_day1.xml").replace(b">2368.50<", b">99999999999999999.00<")
    result = _import(db, "huge.xml", data)
    assert result.status == "quarantined" and "cannot be stored" in result.message
    assert count(db, TransactionRow) == 0 and count(db, StatementRow) == 0
    assert [e.action for e in journal_rows(db)] == ["bank_file.quarantined"]
    assert _import(db, "camt053_day1.xml").status == "imported"
    assert_journal_verifies(db)


def test_quarantined_file_is_retried_when_it_comes_again(db: Database) -> None:
    # As left by an older parser that could not read this file.
    data = _load("camt054_advice.xml")
    import hashlib

    with db.transaction() as s:
        row = BankFileRow(sha256=hashlib.sha256(data).hexdigest(), filename="advice.xml",
                          size=len(data), content=data, status="quarantined",
                          error="old parser failed", diagnostics=[])
        s.add(row)
        s.flush()
        file_id = row.id
    result = _import(db, "camt054_advice.xml", data)
    assert (result.status, result.file_id, result.transactions_new) == ("imported", file_id, 2)
    with db.session() as s:
        stored = s.get(BankFileRow, file_id)
        assert stored is not None and (stored.status, stored.error) == ("imported", None)
    assert journal_rows(db)[-1].data["retried_after_quarantine"] is True
    assert _import(db, "camt054_advice.xml", data).status == "duplicate"
