"""Backup and restore round trip on SQLite and PostgreSQL, through the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from reconciler import journal
from reconciler.cli import main
from reconciler.db.journal import JournalRow
from reconciler.db.session import Database


def _record(db: Database, n: int) -> None:
    with db.transaction() as s:
        for i in range(n):
            journal.record(s, actor="user:ann", action="test", subject=f"x:{i}")


def test_round_trip(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RECON_DATABASE_URL", db.url)
    _record(db, 3)
    target = tmp_path / "recon.backup"
    assert main(["backup", str(target)]) == 0
    assert target.stat().st_size > 0
    _record(db, 2)  # changes after the backup are lost by the restore, as they should be
    db.dispose()
    assert main(["restore", str(target)]) == 2  # refuses without --yes
    assert main(["restore", str(target), "--yes"]) == 0
    assert "3 rows, intact" in capsys.readouterr().out
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(JournalRow)) == 3
        assert journal.verify(s).ok


def test_backup_refuses_to_overwrite(db: Database, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RECON_DATABASE_URL", db.url)
    target = tmp_path / "exists"
    target.write_text("keep me")
    assert main(["backup", str(target)]) == 2
    assert "exists already" in capsys.readouterr().err
    assert target.read_text() == "keep me"


def test_restore_rejects_garbage(sqlite_db: Database, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RECON_DATABASE_URL", sqlite_db.url)
    _record(sqlite_db, 1)
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all" * 100)
    assert main(["restore", str(garbage), "--yes"]) == 2
    assert "not a" in capsys.readouterr().err
    with sqlite_db.session() as s:
        assert journal.verify(s).rows == 1
