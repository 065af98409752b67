"""The size cap on bank files (`max_file_mb`): refused before the bytes are parsed."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from reconciler.cli import main
from reconciler.db.bank import BankFileRow, StatementRow
from reconciler.db.session import Database
from reconciler.statements import QUARANTINED, import_file

GOOD = Path(__file__).resolve().parents[1] / "imports" / "fixtures" / "camt053_day1.xml"


def test_cli_refuses_a_file_over_the_limit(db: Database, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    big = tmp_path / "big.sta"
    big.write_bytes(b":20:X\n" + b"x" * (1024 * 1024 + 10))
    monkeypatch.setenv("RECON_DATABASE_URL", db.url)
    monkeypatch.setenv("RECON_MAX_FILE_MB", "1")
    assert main(["import", "statement", str(big), str(GOOD)]) == 1
    out = capsys.readouterr().out
    assert f"{big}: refused: 1.0 MB is over the limit of 1 MB (setting max_file_mb)" in out
    with db.session() as s:  # the good file beside it was imported; the big one left no row
        assert s.scalar(select(func.count()).select_from(StatementRow)) >= 1
        assert s.scalar(select(func.count()).select_from(BankFileRow)) == 1


def test_service_quarantines_without_keeping_the_bytes(db: Database) -> None:
    data = GOOD.read_bytes()
    result = import_file(db, data, "statement.xml", max_bytes=len(data) - 1)
    assert result.status == QUARANTINED and "over the limit" in result.message
    with db.session() as s:
        row = s.scalars(select(BankFileRow)).one()
        assert row.content == b"" and row.size == len(data)
        assert s.scalar(select(func.count()).select_from(StatementRow)) == 0
    # Under a larger cap the same bytes import normally.
    assert import_file(db, data, "statement.xml").status == "imported"
