"""`recon demo --no-serve` builds a working database from nothing, as a new user runs it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from reconciler import journal
from reconciler.cli import main
from reconciler.db.bank import TransactionRow
from reconciler.db.matching import ApplicationRow
from reconciler.db.session import Database


def test_demo_builds_and_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "demo"
    code = main(["demo", "--no-serve", "--folder", str(folder), "--customers", "15",
                 "--open-items", "120", "--payments", "40"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "applied automatically" in out and "dunning actions" in out
    db = Database(f"sqlite:///{folder / 'demo.db'}")
    try:
        with db.session() as s:
            assert s.scalar(select(func.count()).select_from(TransactionRow)) > 40
            assert s.scalar(select(func.count()).select_from(ApplicationRow)) > 0
            assert journal.verify(s).ok
    finally:
        db.dispose()
    # Running it again starts from scratch rather than importing everything twice.
    assert main(["demo", "--no-serve", "--folder", str(folder), "--customers", "15",
                 "--open-items", "120", "--payments", "40"]) == 0
    assert "0 duplicates" in capsys.readouterr().out
