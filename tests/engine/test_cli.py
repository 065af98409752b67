"""`recon match` and `recon export matches` through the real command line entry point."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.db.session import Database
from tests.engine.builders import add_customer, add_item, add_payment

ACME_IBAN = "DE02100100100006820101"


@pytest.fixture
def cli_db(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.chdir(tmp_path)  # no stray recon.toml
    monkeypatch.delenv("RECON_CONFIG", raising=False)
    monkeypatch.setenv("RECON_DATABASE_URL", db.url)
    with db.transaction() as s:
        add_customer(s, "C1", "Acme Maschinenbau GmbH", (ACME_IBAN,))
        add_item(s, "INV-2026-10001", "C1", "1190.00")
        add_payment(s, "1190.00", name="ACME", iban=ACME_IBAN, text="Rechnung INV-2026-10001",
                    bank_reference="CLEAN-1")
        add_payment(s, "77.13", name="Tax Office", bank_reference="STRANGER-1")
    return db


def test_match_dry_run_shows_lines_and_writes_nothing(
        cli_db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["match", "--dry-run"]) == 0
    out = capsys.readouterr().out
    clean = next(line for line in out.splitlines() if line.startswith("CLEAN-1"))
    assert "auto" in clean and "MAIN/INV-2026-10001" in clean
    assert "would match 2 lines" in out and "dry run: nothing was written" in out
    assert main(["export", "matches"]) == 0
    rows = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    assert {r["status"] for r in rows} == {"unmatched"}


def test_match_then_export(cli_db: Database, tmp_path: Path,
                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["match"]) == 0
    out = capsys.readouterr().out
    assert "matched 2 lines" in out and "1 auto (50.0%)" in out and "1 unmatched" in out
    target = tmp_path / "matches.json"
    assert main(["export", "matches", "--format", "json", "--output", str(target)]) == 0
    records = json.loads(target.read_text(encoding="utf-8"))
    assert [(r["bank_reference"], r["status"], r["document_number"]) for r in records] == [
        ("CLEAN-1", "auto", "INV-2026-10001"), ("STRANGER-1", "unmatched", None)]
    assert list(records[0])[:7] == ["bank_reference", "rank", "document_number",
                                    "applied_amount", "status", "matcher", "confidence"]


def test_export_into_a_missing_folder_is_a_one_line_error(
        cli_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "matches", "--output", str(tmp_path / "nope" / "m.csv")]) == 2
    assert "does not exist" in capsys.readouterr().err
