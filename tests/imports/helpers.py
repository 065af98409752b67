"""Small helpers shared by the import tests."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from reconciler import journal
from reconciler.db.base import Base
from reconciler.db.journal import JournalRow
from reconciler.db.session import Database

FIXTURES = Path(__file__).with_name("fixtures")


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
