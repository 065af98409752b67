"""A large customer file read in a forked child stores exactly what reading it here stores."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from reconciler.db.journal import JournalRow
from reconciler.db.ledger import CustomerIbanRow, CustomerRow
from reconciler.db.session import Database
from reconciler.demo import DemoConfig, generate, write_demo_files
from reconciler.errors import ImportRejectedError
from reconciler.masterdata import customers, import_customers
from tests.imports.helpers import read_in_this_process, write_csv


def _changed_copy(lines: list[str]) -> str:
    """Every fifth customer renamed, every seventh with a new IBAN list, and one new one."""
    out = [lines[0]]
    for n, line in enumerate(lines[1:], start=1):
        values = line.split(",")
        if n % 5 == 0:
            values[1] = values[1] + " Holding"
        if n % 7 == 0:
            values[2] = "DE89370400440532013000"
        out.append(",".join(values))
    out.append("C999999,Neu AG,,,standard,DE,NET30,,,EUR\n")
    return "".join(out)


def test_read_in_a_child_stores_the_same_rows(db: Database, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A demo file, a changed copy, then a file with bad rows: the tables, the journal and
    the problems as the import reading in this process makes them (the reference, SQLite)."""
    monkeypatch.setattr(customers, "_READ_IN_CHILD_FROM", 0)  # this database: the child
    monkeypatch.setattr(customers, "_BATCH", 100)  # several batches, inserts and updates
    write_demo_files(generate(DemoConfig(seed=5, customers=700, open_items=100, payments=10)),
                     tmp_path / "demo", formats=())
    first = tmp_path / "demo" / "customers.csv"
    lines = first.read_text().splitlines(keepends=True)
    changed = write_csv(tmp_path, "changed.csv", _changed_copy(lines))
    bad = write_csv(tmp_path, "bad.csv", "".join(
        [lines[0], *lines[1:300], "C1,,,,,DE,NET30,,,EUR\n", lines[5], *lines[300:]]))

    def run(database: Database) -> list[object]:
        summaries = [import_customers(database, first, filename="customers.csv"),
                     import_customers(database, changed, filename="changed.csv")]
        with pytest.raises(ImportRejectedError) as caught:
            import_customers(database, bad, filename="bad.csv")
        with database.session() as s:
            rows = [{k: v for k, v in row._mapping.items() if k != "updated_at"}
                    for row in s.execute(select(CustomerRow.__table__)
                                         .order_by(CustomerRow.id))]
            # By customer, not by id: SQLite gives a deleted IBAN row's id out again.
            ibans = s.execute(select(CustomerIbanRow.customer_pk, CustomerIbanRow.iban)
                              .order_by(CustomerIbanRow.customer_pk, CustomerIbanRow.iban)
                              ).all()
            journal = [(r.action, r.subject, r.reason, r.data)
                       for r in s.scalars(select(JournalRow).order_by(JournalRow.seq))]
        return [summaries, rows, ibans, journal, caught.value.problems]

    got = run(db)
    assert got[0][1].updated > 100 and len(got[4]) == 2  # the changes and problems happened
    assert got == read_in_this_process(customers, run, tmp_path, monkeypatch)
