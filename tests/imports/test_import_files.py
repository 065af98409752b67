"""`import_files`: several bank files, the next ones parsed in forked workers while the
previous one is stored, with the same rows, results and journal as one `import_file` each."""

from __future__ import annotations

import multiprocessing
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, select

from reconciler import forked
from reconciler.db.bank import BankFileRow, StatementRow, TransactionRow
from reconciler.db.journal import JournalRow
from reconciler.db.session import Database, init_database
from reconciler.demo import DemoConfig, generate, write_demo_files
from reconciler.statements import FileImportResult, import_file, import_files
from tests.imports.helpers import FIXTURES, assert_journal_verifies, count

# Columns that record when a row was written, not what was imported; the journal's hash
# chain covers its timestamps, so it differs with them.
_WHEN = {"received_at", "imported_at", "at", "prev_hash", "hash"}


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("demo")
    write_demo_files(generate(DemoConfig(seed=3, customers=40, open_items=300, payments=400)),
                     folder)
    return sorted(p for p in folder.iterdir() if p.suffix in (".xml", ".sta"))


def _batch(demo_files: list[Path]) -> list[tuple[str, bytes]]:
    """Demo files of all three formats (camt.054 advices link to the later statements), a
    broken file among them, the same bytes twice, and a fixture resent under another name."""
    files = [(p.name, p.read_bytes()) for p in demo_files]
    broken = ("broken_camt053.xml", (FIXTURES / "broken_camt053.xml").read_bytes())
    day1 = ("camt053_day1.xml", (FIXTURES / "camt053_day1.xml").read_bytes())
    return [files[0], day1, broken, *files[1:4], files[1], day1,
            ("camt053_day1_resent.xml", (FIXTURES / "camt053_day1_resent.xml").read_bytes()),
            *files[4:], broken]


def _sequential(batch: list[tuple[str, bytes]], folder: Path) -> tuple[Database,
                                                                      list[FileImportResult]]:
    reference = Database(f"sqlite:///{folder / 'sequential.db'}")
    init_database(reference)
    results = [import_file(reference, data, name, source="bank", actor="test",
                           quarantine_dir=folder / "q-seq") for name, data in batch]
    return reference, results


def _tables(db: Database) -> dict[str, list[dict[str, Any]]]:
    tables: dict[str, list[dict[str, Any]]] = {}
    with db.session() as session:
        for model, order in ((BankFileRow, BankFileRow.id), (StatementRow, StatementRow.id),
                             (TransactionRow, TransactionRow.id), (JournalRow, JournalRow.seq)):
            table: Table = model.__table__  # type: ignore[assignment]
            tables[table.name] = [
                {k: v for k, v in row._mapping.items() if k not in _WHEN}
                for row in session.execute(select(table).order_by(order))]
    return tables


def _comparable(result: FileImportResult) -> FileImportResult:
    """A duplicate's message names when the first copy arrived, to the minute."""
    from dataclasses import replace

    return replace(result, message=re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d", "<when>",
                                          result.message))


def test_same_rows_and_results_as_one_file_at_a_time(db: Database, tmp_path: Path,
                                                     demo_files: list[Path]) -> None:
    batch = _batch(demo_files)
    reference, expected = _sequential(batch, tmp_path)
    try:
        got = list(import_files(db, iter(batch), source="bank", actor="test",
                                quarantine_dir=tmp_path / "q-pipe"))
        assert [_comparable(r) for r in got] == [_comparable(r) for r in expected]
        assert [r.status for r in got].count("quarantined") == 2
        assert [r.status for r in got].count("duplicate") == 2  # same bytes again
        assert any(r.statements_duplicate for r in got)  # same statement, other bytes
        assert any(r.transactions_linked for r in got)
        assert _tables(db) == _tables(reference)
    finally:
        reference.dispose()
    assert sorted(p.name for p in (tmp_path / "q-pipe").iterdir()) == sorted(
        p.name for p in (tmp_path / "q-seq").iterdir())
    assert_journal_verifies(db)


def test_batch_again_is_all_duplicates(db: Database, demo_files: list[Path]) -> None:
    batch = [(p.name, p.read_bytes()) for p in demo_files]
    first = list(import_files(db, batch))
    assert {r.status for r in first} == {"imported"}
    rows = count(db, TransactionRow)
    again = list(import_files(db, batch))
    assert [r.status for r in again] == ["duplicate"] * len(batch)
    assert [r.file_id for r in again] == [r.file_id for r in first]
    assert count(db, TransactionRow) == rows


def test_over_the_size_limit_is_quarantined_unread(db: Database,
                                                   demo_files: list[Path]) -> None:
    batch = [(p.name, p.read_bytes()) for p in demo_files[:3]]
    limit = min(len(data) for _, data in batch) + 1
    results = list(import_files(db, batch, max_bytes=limit))
    for (name, data), result in zip(batch, results, strict=True):
        assert result.status == ("quarantined" if len(data) > limit else "imported"), name
    with db.session() as s:
        assert all(not r.content for r in s.scalars(
            select(BankFileRow).where(BankFileRow.status == "quarantined")))


def test_reads_files_only_two_ahead(db: Database, demo_files: list[Path]) -> None:
    read: list[str] = []

    def files() -> Iterator[tuple[str, bytes]]:
        for path in demo_files:
            read.append(path.name)
            yield path.name, path.read_bytes()

    results = import_files(db, files())
    next(results)
    assert len(read) == 3
    results.close()  # the children parsing the next two are stopped; nothing more is stored
    assert len(read) == 3 and count(db, BankFileRow) == 1
    assert not multiprocessing.active_children()


def test_a_child_that_dies_leaves_the_parse_to_the_import(
        db: Database, demo_files: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    def die(*_args: object) -> None:
        os._exit(1)

    monkeypatch.setattr(forked, "_run", die)
    batch = [(p.name, p.read_bytes()) for p in demo_files[:3]]
    assert [r.status for r in import_files(db, batch)] == ["imported"] * 3
    assert not multiprocessing.active_children()


def test_one_file_or_none(db: Database) -> None:
    assert list(import_files(db, [])) == []
    (result,) = import_files(db, [("advice.xml", (FIXTURES / "camt054_advice.xml").read_bytes())])
    assert (result.status, result.transactions_new) == ("imported", 2)


def test_without_the_worker_the_files_are_parsed_here(db: Database, demo_files: list[Path],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    batch = [(p.name, p.read_bytes()) for p in demo_files[:3]]
    assert [r.status for r in import_files(db, batch)] == ["imported"] * 3
