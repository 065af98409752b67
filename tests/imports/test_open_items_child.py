"""A large open-item file read in a forked child stores exactly what reading it here stores."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from reconciler.db.journal import JournalRow
from reconciler.db.ledger import OpenItemRow
from reconciler.db.session import Database
from reconciler.demo import DemoConfig, generate, write_demo_files
from reconciler.masterdata import import_open_items, open_items
from tests.imports.helpers import read_in_this_process, write_csv


def test_read_in_a_child_stores_the_same_rows(db: Database, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A demo file, then a changed copy with --full: the whole table and the journal as the
    import reading in this process makes them (the reference, on SQLite)."""
    monkeypatch.setattr(open_items, "_READ_IN_CHILD_FROM", 0)  # this database: the child
    write_demo_files(generate(DemoConfig(seed=5, customers=50, open_items=3000, payments=10)),
                     tmp_path / "demo", formats=())
    first = tmp_path / "demo" / "open_items.csv"
    lines = first.read_text().splitlines(keepends=True)
    changed = write_csv(tmp_path, "changed.csv", "".join(
        [lines[0], *(line.replace(",EUR,", ",USD,") if n % 7 == 0 else line
                     for n, line in enumerate(lines[1:2500]))]))

    def run(database: Database) -> list[object]:
        summaries = [import_open_items(database, first, filename="open_items.csv"),
                     import_open_items(database, changed, full=True, filename="changed.csv")]
        with database.session() as s:
            items = [{k: v for k, v in row._mapping.items() if k != "updated_at"}
                     for row in s.execute(select(OpenItemRow.__table__)
                                          .order_by(OpenItemRow.id))]
            journal = [(r.action, r.subject, r.reason, r.data)
                       for r in s.scalars(select(JournalRow).order_by(JournalRow.seq))]
        return [summaries, items, journal]

    got = run(db)
    assert got == read_in_this_process(open_items, run, tmp_path, monkeypatch)
