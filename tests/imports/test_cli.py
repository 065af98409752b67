"""The import commands driven through `reconciler.cli.main`, on the fixture database."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.db.bank import TransactionRow
from reconciler.db.ledger import CustomerRow, OpenItemRow
from reconciler.db.session import Database
from tests.imports.helpers import FIXTURES, assert_journal_verifies, count, write_csv


@pytest.fixture
def cli_env(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no recon.toml from the working tree
    monkeypatch.delenv("RECON_CONFIG", raising=False)
    monkeypatch.setenv("RECON_DATABASE_URL", db.url)
    monkeypatch.setenv("RECON_DATA_DIR", str(tmp_path / "var"))
    return tmp_path


def test_import_customers_and_open_items(cli_env: Path, db: Database,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", "customers", str(FIXTURES / "customers.csv")]) == 0
    out = capsys.readouterr().out
    assert "4 rows: 4 inserted, 0 updated, 0 unchanged, 0 closed, 0 warnings" in out
    assert main(["import", "open-items", str(FIXTURES / "open_items.csv")]) == 0
    assert "6 inserted" in capsys.readouterr().out
    assert main(["import", "open-items", "--full", str(FIXTURES / "open_items.csv")]) == 0
    assert "0 inserted, 0 updated, 6 unchanged, 0 closed" in capsys.readouterr().out
    assert (count(db, CustomerRow), count(db, OpenItemRow)) == (4, 6)
    assert_journal_verifies(db)


def test_rejected_file_lists_problems_and_exits_2(cli_env: Path, db: Database,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    header = "customer_id,name,country\n"
    rows = "".join(f"C{n},Name {n},XXX\n" for n in range(60))
    path = write_csv(cli_env, "bad.csv", header + rows)
    assert main(["import", "customers", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "rejected, nothing imported: 60 problem(s)" in captured.err
    assert "line 2, column country" in captured.err and "line 51, column country" in captured.err
    assert "line 52, column country" not in captured.err
    assert "... and 10 more" in captured.err
    assert count(db, CustomerRow) == 0


def test_import_statements(cli_env: Path, db: Database,
                           capsys: pytest.CaptureFixture[str]) -> None:
    files = [str(FIXTURES / n) for n in ("camt054_advice.xml", "camt053_day1.xml")]
    assert main(["import", "statement", *files]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("camt054_advice.xml: imported camt.054.001.08: 1 statement(s) new, "
                           "0 duplicate, 2 transaction(s) new, 0 linked, 0 diagnostic(s)")
    assert "3 transaction(s) new, 1 linked" in out[1]
    assert out[2] == ("total: 2 file(s): 2 imported, 0 duplicate, 0 quarantined, "
                      "0 unreadable; 5 transaction(s) new, 1 linked")
    assert main(["import", "statement", *files]) == 0
    assert "2 duplicate" in capsys.readouterr().out
    assert count(db, TransactionRow) == 5


def test_quarantined_or_unreadable_file_exits_1(cli_env: Path, db: Database,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    missing = str(cli_env / "missing.xml")
    files = [str(FIXTURES / "broken_camt053.xml"), missing, str(FIXTURES / "mt940_day2.sta")]
    assert main(["import", "statement", *files]) == 1
    out = capsys.readouterr().out.splitlines()
    assert "quarantined: " in out[0] and "malformed XML" in out[0]
    assert out[1].startswith(f"{missing}: unreadable")
    assert "imported mt940" in out[2]
    assert "1 imported, 0 duplicate, 1 quarantined, 1 unreadable" in out[3]
    assert list((cli_env / "var" / "quarantine").iterdir())
    assert count(db, TransactionRow) == 3


def test_unreadable_files_keep_their_place_among_the_others(
        cli_env: Path, db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    first, last = str(cli_env / "first.xml"), str(cli_env / "last.xml")
    files = [first, str(FIXTURES / "camt054_advice.xml"), str(FIXTURES / "camt053_day1.xml"),
             str(FIXTURES / "mt940_day2.sta"), last]
    assert main(["import", "statement", *files]) == 1
    out = capsys.readouterr().out.splitlines()
    assert [line.split(": ")[:2] for line in out[:5]] == [
        [first, "unreadable"], [files[1], "imported camt.054.001.08"],
        [files[2], "imported camt.053.001.08"], [files[3], "imported mt940"],
        [last, "unreadable"]]
    assert "3 imported, 0 duplicate, 0 quarantined, 2 unreadable" in out[5]
    assert count(db, TransactionRow) == 8
