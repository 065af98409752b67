"""customers.csv: upsert by customer_id, strict validation, all-or-nothing."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from reconciler.db.ledger import CustomerIbanRow, CustomerRow
from reconciler.db.session import Database
from reconciler.errors import ImportRejectedError
from reconciler.mapping import customer_from_row
from reconciler.masterdata import import_customers
from tests.imports.helpers import (
    FIXTURES,
    assert_journal_verifies,
    count,
    journal_rows,
    write_csv,
)

HEADER = "customer_id,name,ibans,parent_customer_id,segment,country,payment_terms\n"


def _customer(db: Database, customer_id: str) -> CustomerRow:
    with db.session() as s:
        row = s.scalars(select(CustomerRow).where(CustomerRow.customer_id == customer_id)).one()
        row.ibans  # noqa: B018 - load while the session is open
        return row


def test_import_customers(db: Database) -> None:
    summary = import_customers(db, FIXTURES / "customers.csv")
    assert (summary.rows, summary.inserted, summary.updated, summary.unchanged) == (4, 4, 0, 0)
    assert count(db, CustomerRow) == 4
    assert count(db, CustomerIbanRow) == 4
    mueller = customer_from_row(_customer(db, "C001"))
    assert mueller.name == "Müller GmbH & Co. KG"
    assert mueller.ibans == ("DE44500105175407324931", "DE89370400440532013000")
    assert mueller.payment_terms is not None and mueller.payment_terms.code == "2/10NET30"
    assert mueller.credit_limit == Decimal("50000.00")
    assert _customer(db, "C001").normalized_name == "mueller"
    belgique = customer_from_row(_customer(db, "C003"))
    assert (belgique.country, belgique.parent_customer_id) == ("BE", "C002")
    assert belgique.payment_terms is not None and belgique.payment_terms.code == "NET45"
    entries = journal_rows(db)
    assert [e.action for e in entries] == ["import.customers"]
    assert entries[0].data["inserted"] == 4 and len(entries[0].data["sha256"]) == 64
    assert entries[0].data["changed_keys"]["inserted"] == ["C001", "C002", "C003", "C004"]
    assert_journal_verifies(db)


def test_reimport_is_idempotent_and_updates_change(db: Database, tmp_path: Path) -> None:
    import_customers(db, FIXTURES / "customers.csv")
    again = import_customers(db, FIXTURES / "customers.csv")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 4)
    changed = write_csv(tmp_path, "c.csv", HEADER +
                        "C002,Acme Nederland B.V.,NL91ABNA0417164300;BE68539007547034,,key,NL,"
                        "NET60\nC005,New Customer Ltd,,,,GB,\n")
    summary = import_customers(db, changed)
    assert (summary.inserted, summary.updated, summary.unchanged) == (1, 1, 0)
    acme = customer_from_row(_customer(db, "C002"))
    assert acme.name == "Acme Nederland B.V." and acme.segment == "key"
    assert acme.ibans == ("BE68539007547034", "NL91ABNA0417164300")
    assert acme.payment_terms is not None and acme.payment_terms.net_days == 60
    # Columns absent from the second file (email, credit_limit, currency) were kept.
    assert acme.currency == "EUR"
    assert count(db, CustomerRow) == 5
    assert len(journal_rows(db)) == 3
    assert_journal_verifies(db)


def test_every_bad_row_is_reported_and_nothing_written(db: Database, tmp_path: Path) -> None:
    import_customers(db, FIXTURES / "customers.csv")
    bad = write_csv(tmp_path, "bad.csv", HEADER +
                    "C010,Good One,,,,DE,NET30\n"
                    ",No Id,,,,DE,NET30\n"
                    "C011,,,,,DE,NET30\n"
                    "C012,Bad Iban,DE89370400440532013001,,,DE,NET30\n"
                    "C013,Bad Country,,,,DEU,NET30\n"
                    "C014,Bad Terms,,,,DE,30 days\n"
                    "C010,Twice,,,,DE,NET30\n"
                    "C015,Short Row,,,\n")
    with pytest.raises(ImportRejectedError) as caught:
        import_customers(db, bad)
    problems = caught.value.problems
    expected = [("line 3", "customer_id"), ("line 4", "name"), ("line 5", "ibans"),
                ("line 6", "country"), ("line 7", "payment_terms"), ("line 8", "customer_id")]
    for line, column in expected:
        assert any(f"{line}, column {column}:" in p for p in problems), (line, column, problems)
    assert any("DE89370400440532013001" in p and "mod-97" in p for p in problems)
    assert any("'DEU'" in p for p in problems)
    assert any("line 9" in p and "5 fields" in p for p in problems)
    assert len(problems) == 7
    assert count(db, CustomerRow) == 4  # the earlier import only
    assert len(journal_rows(db)) == 1
    assert_journal_verifies(db)


def test_missing_required_column_is_named(db: Database, tmp_path: Path) -> None:
    path = write_csv(tmp_path, "c.csv", "customer_id,ibans\nC1,\n")
    with pytest.raises(ImportRejectedError, match="name") as caught:
        import_customers(db, path)
    assert caught.value.problems == [f"{path} line 1: required column 'name' is missing"]
    assert count(db, CustomerRow) == 0


def test_extra_columns_are_ignored_with_a_warning(db: Database, tmp_path: Path) -> None:
    path = write_csv(tmp_path, "c.csv", "customer_id,name,fax\nC1,One AG,+49 30 1234\n")
    summary = import_customers(db, path)
    assert summary.inserted == 1
    assert len(summary.warnings) == 1 and "'fax'" in summary.warnings[0]


def test_bom_is_accepted(db: Database) -> None:
    summary = import_customers(db, FIXTURES / "customers_bom.csv")
    assert summary.inserted == 4
    assert customer_from_row(_customer(db, "C001")).name == "Müller GmbH & Co. KG"


def test_non_utf8_is_refused_with_the_place(db: Database) -> None:
    with pytest.raises(ImportRejectedError) as caught:
        import_customers(db, FIXTURES / "customers_latin1.csv")
    (problem,) = caught.value.problems
    # 'ü' in 'Müller' is the single byte 0xfc in latin-1: line 2, byte offset 134.
    offset = (FIXTURES / "customers_latin1.csv").read_bytes().index(b"\xfc")
    assert "line 2" in problem and f"byte offset {offset}" in problem and "UTF-8" in problem
    assert count(db, CustomerRow) == 0
    assert journal_rows(db) == []


def test_unknown_parent_is_a_warning(db: Database, tmp_path: Path) -> None:
    path = write_csv(tmp_path, "c.csv", HEADER + "C1,Child SA,,C999,,FR,NET30\n")
    summary = import_customers(db, path)
    assert summary.inserted == 1
    assert any("C999" in w for w in summary.warnings)


def test_utf16_is_named(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes((HEADER + "C1,One AG,,,,DE,NET30\n").encode("utf-16"))
    with pytest.raises(ImportRejectedError) as caught:
        import_customers(db, path)
    assert "UTF-16" in caught.value.problems[0]
    assert count(db, CustomerRow) == 0


def test_file_object_and_quoted_fields(db: Database) -> None:
    import io

    text = (HEADER + '"C1","Smith, Jones & Partners Ltd",,,,GB,NET30\n'
            '"C2","Line\nbreak AG",,,,DE,NET30\n'
            "C3,,,,,DE,NET30\n")
    with pytest.raises(ImportRejectedError) as caught:
        import_customers(db, io.BytesIO(text.encode()), filename="upload.csv")
    # The quoted line break makes the bad row start on physical line 5.
    assert caught.value.problems == [
        "upload.csv line 5, column name: required (value '')"]
    summary = import_customers(db, io.BytesIO(text.replace("C3,,", "C3,Three,").encode()),
                               filename="upload.csv")
    assert summary.inserted == 3
    assert customer_from_row(_customer(db, "C1")).name == "Smith, Jones & Partners Ltd"
