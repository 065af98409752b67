"""Small helpers shared by the import tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TypeVar

import pytest
from sqlalchemy import func, select

from reconciler import journal
from reconciler.db.base import Base
from reconciler.db.journal import JournalRow
from reconciler.db.session import Database, init_database

FIXTURES = Path(__file__).with_name("fixtures")
T = TypeVar("T")


def count(db: Database, model: type[Base]) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def journal_rows(db: Database) -> list[JournalRow]:
    with db.session() as s:
        return list(s.scalars(select(JournalRow).order_by(JournalRow.seq)))


def assert_journal_verifies(db: Database) -> None:
    with db.session() as s:
        report = journal.verify(s)
    assert report.ok, report.problems


def write_csv(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def read_in_this_process(module: ModuleType, run: Callable[[Database], T], tmp_path: Path,
                         monkeypatch: pytest.MonkeyPatch) -> T:
    """`run` on a fresh SQLite database with `module`'s file read in this process (as a small
    file is): the reference that reading in a forked child must match."""
    reference = Database(f"sqlite:///{tmp_path / 'reference.db'}")
    init_database(reference)
    monkeypatch.setattr(module, "_READ_IN_CHILD_FROM", 10**9)
    try:
        return run(reference)
    finally:
        reference.dispose()
