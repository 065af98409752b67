"""`recon pull`, `recon export postings` and `recon jobs` end to end."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from reconciler import pulling
from reconciler.cli import main
from reconciler.db.session import Database
from tests.connectors.conftest import camt053
from tests.connectors.factory import apply, payment_with_items


@pytest.fixture
def config(db: Database, tmp_path: Path, importer: Any,
           monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(pulling, "default_importer", lambda max_bytes=None: importer)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    path = tmp_path / "recon.toml"
    path.write_text(f"""
database_url = "{db.url}"
data_dir = "{tmp_path / 'var'}"

[sources.local]
kind = "folder"
path = "{inbox}"
pattern = "*.xml"

[sources.broken]
kind = "folder"
path = "{tmp_path / 'missing'}"

[sinks.erp]
kind = "file"
format = "csv"
path = "{tmp_path / 'erp'}"
""")
    return path


def test_pull_prints_each_file_and_jobs_shows_history(config: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    inbox = tmp_path / "inbox"
    (inbox / "a.xml").write_bytes(camt053("CLI1"))
    os.utime(inbox / "a.xml", (time.time() - 60, time.time() - 60))
    assert main(["--config", str(config), "pull", "local"]) == 0
    out = capsys.readouterr().out
    assert "local: a.xml: imported" in out
    assert main(["--config", str(config), "pull", "local"]) == 0
    assert "local: nothing new" in capsys.readouterr().out
    assert main(["--config", str(config), "pull", "broken"]) == 1
    assert "broken: ERROR" in capsys.readouterr().out

    assert main(["--config", str(config), "jobs"]) == 0
    history = capsys.readouterr().out
    assert history.count("pull:local") >= 2 and "last errors:" in history
    assert "pull:broken" in history.split("last errors:")[1]


def test_unknown_source_is_a_one_line_error(config: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(config), "pull", "nope"]) == 2
    assert "unknown source 'nope'" in capsys.readouterr().err


def test_export_postings_delivers_or_writes_a_file(config: Path, db: Database, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    apply(db, payment_with_items(db))
    assert main(["--config", str(config), "export", "postings"]) == 0
    assert "erp: 1 delivered, 0 pending, 0 given up" in capsys.readouterr().out
    assert (tmp_path / "erp" / "posting-0000000001.csv").exists()
    target = tmp_path / "all.json"
    assert main(["--config", str(config), "export", "postings", "--output", str(target)]) == 0
    assert "1 postings written" in capsys.readouterr().out
    [entry] = json.loads(target.read_text())
    assert entry["sequence"] == 1 and entry["lines"][0]["account"] == "bank"
    assert main(["--config", str(config), "export", "postings", "--format", "csv",
                 "--output", "-"]) == 0
    assert capsys.readouterr().out.splitlines()[0].startswith("sequence,posting_id,kind")
