"""open_items.csv: upsert by entity + document_number, closing, --full, all-or-nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import inspect, select

from reconciler.db.bank import BankFileRow, StatementRow, TransactionRow
from reconciler.db.base import utcnow
from reconciler.db.ledger import OpenItemRow
from reconciler.db.matching import ApplicationLineRow, ApplicationRow
from reconciler.db.session import Database
from reconciler.domain import DocumentType, ItemStatus
from reconciler.errors import ImportRejectedError
from reconciler.mapping import item_from_row
from reconciler.masterdata import import_customers, import_open_items, open_items
from tests.imports.helpers import (
    FIXTURES,
    assert_journal_verifies,
    count,
    journal_rows,
    write_csv,
)

HEADER = ("entity,document_number,document_type,customer_id,currency,amount,open_amount,"
          "issue_date,due_date,payment_reference,discount_rate,discount_due_date\n")


@pytest.fixture(autouse=True, params=["read here", "read in a child"])
def reading(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test twice: the rows read in this process, and read in a forked child while this
    process writes them (what a large file gets)."""
    if request.param == "read in a child":
        monkeypatch.setattr(open_items, "_READ_IN_CHILD_FROM", 0)
    return str(request.param)


def _items(db: Database) -> dict[str, OpenItemRow]:
    with db.session() as s:
        return {f"{r.entity}/{r.document_number}": r for r in s.scalars(select(OpenItemRow))}


def test_import_open_items(db: Database) -> None:
    import_customers(db, FIXTURES / "customers.csv")
    summary = import_open_items(db, FIXTURES / "open_items.csv", default_entity="MAIN")
    assert (summary.rows, summary.inserted, summary.updated, summary.closed) == (6, 6, 0, 0)
    assert summary.warnings == ()
    items = _items(db)
    assert set(items) == {"MAIN/INV-1001", "MAIN/INV-1002", "MAIN/CN-2001", "MAIN/INV-1003",
                          "NL01/INV-1003", "MAIN/INV-1004"}
    first = item_from_row(items["MAIN/INV-1001"])
    assert first.amount == Decimal("1190.00") and first.open_amount == Decimal("1190.00")
    assert first.discount_rate == Decimal("0.02")
    assert first.discount_due_date == dt.date(2026, 10, 11)
    assert first.payment_reference == "RF18539007547034"
    assert first.discount_on(dt.date(2026, 10, 10)) == Decimal("23.8000")
    credit = item_from_row(items["MAIN/CN-2001"])
    assert credit.document_type is DocumentType.CREDIT_NOTE and credit.amount == Decimal("-100")
    partly = items["MAIN/INV-1002"]
    assert (partly.open_amount, partly.erp_open_amount) == (Decimal("250"), Decimal("250"))
    assert items["NL01/INV-1003"].status == "closed"  # open amount 0
    assert items["MAIN/INV-1004"].amount == Decimal("12000")
    entry = journal_rows(db)[-1]
    assert entry.action == "import.open_items" and entry.actor == "system:import"
    assert entry.data["inserted"] == 6
    assert "MAIN/INV-1001" in entry.data["changed_keys"]["inserted"]
    assert_journal_verifies(db)


def test_update_close_and_reopen(db: Database, tmp_path: Path) -> None:
    import_open_items(db, FIXTURES / "open_items.csv")
    changed = write_csv(tmp_path, "o.csv", HEADER +
                        "MAIN,INV-1001,invoice,C001,EUR,1190.00,1190.00,2026-10-01,2026-10-31,"
                        "RF18539007547034,0.02,2026-10-11\n"  # unchanged
                        "MAIN,INV-1002,invoice,C001,EUR,500.00,0.00,2026-10-05,2026-11-04,,,\n"
                        "MAIN,INV-1003,invoice,C002,EUR,2380.50,1000.50,2026-10-10,2026-11-09,"
                        "RF71INV1003,,\n"
                        "NL01,INV-1003,invoice,C002,EUR,99.99,99.99,2026-09-01,2026-10-01,,,\n")
    summary = import_open_items(db, changed)
    assert (summary.inserted, summary.updated, summary.unchanged, summary.closed) == (0, 2, 1, 1)
    items = _items(db)
    assert items["MAIN/INV-1002"].status == "closed"
    assert items["MAIN/INV-1003"].open_amount == Decimal("1000.50")
    assert items["NL01/INV-1003"].status == "open"  # reopened in the ERP
    # Without --full the items missing from this file stay as they were.
    assert items["MAIN/CN-2001"].status == "open"
    assert items["MAIN/INV-1004"].status == "open"
    assert_journal_verifies(db)


def test_full_closes_missing_items_of_the_named_entities(db: Database, tmp_path: Path) -> None:
    import_open_items(db, FIXTURES / "open_items.csv")
    only = write_csv(tmp_path, "o.csv", HEADER +
                     "MAIN,INV-1001,invoice,C001,EUR,1190.00,1190.00,2026-10-01,2026-10-31,"
                     "RF18539007547034,0.02,2026-10-11\n")
    summary = import_open_items(db, only, full=True)
    assert summary.unchanged == 1
    assert summary.closed == 4  # INV-1002, CN-2001, INV-1003, INV-1004 of entity MAIN
    items = _items(db)
    for key in ("MAIN/INV-1002", "MAIN/CN-2001", "MAIN/INV-1003", "MAIN/INV-1004"):
        assert items[key].status == "closed"
        assert items[key].open_amount == 0 and items[key].erp_open_amount == 0
    assert items["MAIN/INV-1001"].status == "open"
    assert items["NL01/INV-1003"].status == "closed"  # was closed already; other entity
    entry = journal_rows(db)[-1]
    assert entry.data["full"] is True and sorted(entry.data["changed_keys"]["closed"]) == [
        "MAIN/CN-2001", "MAIN/INV-1002", "MAIN/INV-1003", "MAIN/INV-1004"]
    again = import_open_items(db, only, full=True)
    assert (again.updated, again.closed, again.unchanged) == (0, 0, 1)


def test_reimport_is_idempotent(db: Database) -> None:
    import_open_items(db, FIXTURES / "open_items.csv")
    before = {k: item_from_row(v) for k, v in _items(db).items()}
    summary = import_open_items(db, FIXTURES / "open_items.csv", full=True)
    assert (summary.inserted, summary.updated, summary.closed, summary.unchanged) == (0, 0, 0, 6)
    assert {k: item_from_row(v) for k, v in _items(db).items()} == before
    assert len(journal_rows(db)) == 2


def test_open_amount_subtracts_applications_made_here(db: Database, tmp_path: Path) -> None:
    import_open_items(db, FIXTURES / "open_items.csv")
    item_id = _items(db)["MAIN/INV-1001"].id
    with db.transaction() as s:
        bank_file = BankFileRow(sha256="0" * 64, filename="x", size=0, content=b"",
                                status="imported")
        s.add(bank_file)
        s.flush()
        statement = StatementRow(file_id=bank_file.id, kind="statement", account="DE1",
                                 currency="EUR")
        s.add(statement)
        s.flush()
        tx = TransactionRow(statement_id=statement.id, position=1, account="DE1",
                            amount=Decimal("400"), currency="EUR", bank_reference="R1",
                            booking_date=dt.date(2026, 10, 20), value_date=dt.date(2026, 10, 20))
        s.add(tx)
        s.flush()
        live = ApplicationRow(transaction_id=tx.id, status="manual", actor="user:a",
                              applied_at=utcnow())
        live.lines.append(ApplicationLineRow(kind="item", item_id=item_id, amount=Decimal("390")))
        live.lines.append(ApplicationLineRow(kind="discount", item_id=item_id,
                                             amount=Decimal("10")))
        undone = ApplicationRow(transaction_id=tx.id, status="manual", actor="user:a",
                                applied_at=utcnow())
        undone.lines.append(ApplicationLineRow(kind="item", item_id=item_id,
                                               amount=Decimal("999")))
        s.add_all([live, undone])
        s.flush()
        reversal = ApplicationRow(transaction_id=tx.id, status="manual", actor="user:a",
                                  applied_at=utcnow(), reverses_id=undone.id)
        reversal.lines.append(ApplicationLineRow(kind="item", item_id=item_id,
                                                 amount=Decimal("-999")))
        s.add(reversal)
        s.flush()
        undone.reversed_by_id = reversal.id
    path = write_csv(tmp_path, "o.csv", HEADER +
                     "MAIN,INV-1001,invoice,C001,EUR,1190.00,1100.00,2026-10-01,2026-10-31,"
                     "RF18539007547034,0.02,2026-10-11\n")
    summary = import_open_items(db, path)
    assert summary.updated == 1
    row = _items(db)["MAIN/INV-1001"]
    assert row.erp_open_amount == Decimal("1100.00")
    assert row.open_amount == Decimal("700.00")  # 1100 - (390 + 10); the reversed 999 is not live
    assert row.status == "open"
    crossing = write_csv(tmp_path, "o2.csv", HEADER +
                         "MAIN,INV-1001,invoice,C001,EUR,1190.00,300.00,2026-10-01,2026-10-31,"
                         "RF18539007547034,0.02,2026-10-11\n")
    summary = import_open_items(db, crossing)
    assert summary.closed == 1 and any("cross zero" in w for w in summary.warnings)
    assert _items(db)["MAIN/INV-1001"].open_amount == 0


def test_disputed_item_stays_disputed_while_open(db: Database, tmp_path: Path) -> None:
    import_open_items(db, FIXTURES / "open_items.csv")
    with db.transaction() as s:
        row = s.scalars(select(OpenItemRow).where(OpenItemRow.document_number == "INV-1002")).one()
        row.status = ItemStatus.DISPUTED.value
    path = write_csv(tmp_path, "o.csv", HEADER +
                     "MAIN,INV-1002,invoice,C001,EUR,500.00,200.00,2026-10-05,2026-11-04,,,\n")
    import_open_items(db, path)
    assert _items(db)["MAIN/INV-1002"].status == "disputed"


def test_every_bad_row_is_reported_and_nothing_written(db: Database, tmp_path: Path) -> None:
    import_open_items(db, FIXTURES / "open_items.csv")
    bad = write_csv(tmp_path, "bad.csv", HEADER +
                    "MAIN,INV-2001,invoice,C001,EUR,100.00,100.00,2026-10-01,2026-10-31,,,\n"
                    "MAIN,INV-2002,bill,C001,EUR,100.00,100.00,2026-10-01,2026-10-31,,,\n"
                    "MAIN,INV-2003,invoice,C001,EURO,100.00,100.00,2026-10-01,2026-10-31,,,\n"
                    "MAIN,INV-2004,invoice,C001,EUR,\"1,000.00\",100.00,2026-10-01,2026-10-31,,,\n"
                    "MAIN,INV-2005,invoice,C001,EUR,100.00,100.00,01.10.2026,2026-10-31,,,\n"
                    "MAIN,CN-2006,credit_note,C001,EUR,100.00,100.00,2026-10-01,2026-10-31,,,\n"
                    "MAIN,INV-2007,invoice,C001,EUR,100.00,150.00,2026-10-01,2026-10-31,,,\n"
                    "MAIN,INV-2008,invoice,,EUR,100.00,100.00,2026-10-01,2026-10-31,,,\n"
                    "MAIN,INV-2001,invoice,C001,EUR,100.00,100.00,2026-10-01,2026-10-31,,,\n"
                    "MAIN,INV-2009,invoice,C001,EUR,100.001,100.00,2026-10-01,2026-10-31,,,\n"
                    "MAIN,INV-2010,invoice,C001,EUR,100.00,100.00,2026-10-01,2026-10-31,,0.02,\n"
                    "MAIN,INV-2011,invoice,C001,EUR,100.00,100.00,2026-10-01,2026-02-30,,,\n"
                    "MAIN,INV-2012,invoice,C001,EUR,100.00,100.00,2026-10-01,2026-10-31,,,x,y\n")
    with pytest.raises(ImportRejectedError) as caught:
        import_open_items(db, bad)
    problems = caught.value.problems
    expected = [("line 3", "document_type", "'bill'"), ("line 4", "currency", "'EURO'"),
                ("line 5", "amount", "'1,000.00'"), ("line 6", "issue_date", "'01.10.2026'"),
                ("line 7", "amount", "'100.00'"), ("line 8", "open_amount", "'150.00'"),
                ("line 9", "customer_id", "''"), ("line 10", "document_number", "'INV-2001'"),
                ("line 11", "amount", "'100.001'"), ("line 12", "discount_due_date", "''"),
                ("line 13", "due_date", "'2026-02-30'")]
    for line, column, value in expected:
        assert any(f"{line}, column {column}:" in p and f"(value {value})" in p
                   for p in problems), (line, column, problems)
    assert any("line 14" in p and "13 fields" in p for p in problems)
    assert all(str(bad) in p for p in problems)
    assert len(problems) == len(expected) + 1
    assert count(db, OpenItemRow) == 6  # the first import only; INV-2001 was not written
    assert len(journal_rows(db)) == 1
    assert_journal_verifies(db)


def test_rejection_after_many_good_rows_writes_nothing(db: Database, tmp_path: Path) -> None:
    # Enough good rows to fill several write batches before the bad one.
    lines = [f"MAIN,INV-{n},invoice,C1,EUR,10.00,10.00,2026-10-01,2026-10-31,,,\n"
             for n in range(12_000)]
    lines.append("MAIN,BAD,invoice,C1,EUR,ten,10.00,2026-10-01,2026-10-31,,,\n")
    path = write_csv(tmp_path, "o.csv", HEADER + "".join(lines))
    with pytest.raises(ImportRejectedError) as caught:
        import_open_items(db, path)
    assert caught.value.problems == [
        f"{path} line 12002, column amount: not an amount (write it as 1234.50, with a point "
        "and no separators) (value 'ten')"]
    assert count(db, OpenItemRow) == 0
    assert journal_rows(db) == []


def _index_names(db: Database) -> set[str]:
    with db.session() as s:
        return {index["name"] for index in inspect(s.connection()).get_indexes("open_items")}


def test_large_import_rebuilds_indexes_and_a_rejected_one_keeps_them(
        db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A large fresh import (SQLite) drops the secondary indexes and builds them again at the
    # end, inside its transaction: a rejected file must leave them exactly as they were.
    monkeypatch.setattr(open_items, "_REBUILD_FROM", 10)
    indexes = _index_names(db)
    good = [f"MAIN,INV-{n},invoice,C1,EUR,10.00,10.00,2026-10-01,2026-10-31,RF{n},,\n"
            for n in range(50)]
    bad = write_csv(tmp_path, "bad.csv", HEADER + "".join(good)
                    + "MAIN,BAD,invoice,C1,EUR,ten,10.00,2026-10-01,2026-10-31,,,\n")
    with pytest.raises(ImportRejectedError):
        import_open_items(db, bad)
    assert _index_names(db) == indexes and count(db, OpenItemRow) == 0
    summary = import_open_items(db, write_csv(tmp_path, "good.csv", HEADER + "".join(good)))
    assert summary.inserted == 50 and _index_names(db) == indexes
    with db.session() as s:
        found = s.scalars(select(OpenItemRow.document_number)
                          .where(OpenItemRow.payment_reference == "RF7")).all()
    assert found == ["INV-7"]


def test_unknown_customers_are_one_warning(db: Database) -> None:
    summary = import_open_items(db, FIXTURES / "open_items.csv")  # no customers imported
    (warning,) = summary.warnings
    assert "3 customer id(s) not in the customer master" in warning and "C001" in warning


def test_missing_columns_and_empty_file(db: Database, tmp_path: Path) -> None:
    path = write_csv(tmp_path, "o.csv", "entity,document_number,customer_id\n")
    with pytest.raises(ImportRejectedError) as caught:
        import_open_items(db, path)
    message = str(caught.value)
    for column in ("document_type", "currency", "amount", "open_amount", "issue_date",
                   "due_date"):
        assert column in message
    empty = write_csv(tmp_path, "e.csv", "")
    with pytest.raises(ImportRejectedError, match="empty"):
        import_open_items(db, empty)
    semicolons = write_csv(tmp_path, "s.csv", HEADER.replace(",", ";"))
    with pytest.raises(ImportRejectedError) as caught:
        import_open_items(db, semicolons)
    assert "comma-separated" in caught.value.problems[0]


def test_large_import_journals_counts_not_keys(db: Database, tmp_path: Path) -> None:
    lines = [f"MAIN,INV-{n},invoice,C1,EUR,10.00,10.00,2026-10-01,2026-10-31,,,\n"
             for n in range(1200)]
    summary = import_open_items(db, write_csv(tmp_path, "o.csv", HEADER + "".join(lines)))
    assert summary.inserted == 1200
    entry = journal_rows(db)[-1]
    assert entry.data["inserted"] == 1200 and entry.data["changed_keys"] is None
