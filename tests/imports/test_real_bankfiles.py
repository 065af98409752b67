"""Every real bank file of the shared corpus goes through the import: stored or quarantined,
never an exception, never a second copy; PostgreSQL enforces the column lengths."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from reconciler.db.bank import BankFileRow, TransactionRow
from reconciler.db.session import Database
from reconciler.statements import import_file
from tests.imports.helpers import assert_journal_verifies, count


@pytest.mark.slow
def test_corpus_imports_idempotently(db: Database, bankfiles: Path) -> None:
    reference = json.loads((bankfiles / "reference.json").read_text(encoding="utf-8"))
    files = sorted(p for p in (bankfiles / name for name in reference) if p.is_file())
    assert files, "reference.json names no file that exists"
    first = {p: import_file(db, p.read_bytes(), p.name) for p in files}
    statuses = {r.status for r in first.values()}
    assert statuses <= {"imported", "quarantined", "duplicate"}
    imported = [p for p, r in first.items() if r.status == "imported"]
    assert len(imported) > len(files) // 2, "most of the corpus must import"
    for path, result in first.items():
        if result.status == "quarantined":
            assert result.message, path
    transactions = count(db, TransactionRow)
    again = {p: import_file(db, p.read_bytes(), p.name) for p in files}
    for path, result in again.items():
        expected = "quarantined" if first[path].status == "quarantined" else "duplicate"
        assert result.status == expected, (path, result)
    assert count(db, TransactionRow) == transactions
    assert count(db, BankFileRow) == len({r.sha256 for r in first.values()})
    with db.session() as s:
        empty = s.scalar(select(func.count()).select_from(TransactionRow).where(
            TransactionRow.bank_reference == ""))
    assert empty == 0
    assert_journal_verifies(db)
