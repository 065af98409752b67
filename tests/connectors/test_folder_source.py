"""The watched-folder source."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from connectors.sources.folder import FolderSource
from reconciler.db.bank import BankFileRow
from reconciler.db.session import Database
from reconciler.pulling import pull_all
from reconciler.settings import Settings, SourceSettings
from tests.connectors.conftest import camt053


def settle(path: Path) -> None:
    then = time.time() - 60
    os.utime(path, (then, then))


def test_folder_pull_moves_taken_files_to_archive(db: Database, tmp_path: Path,
                                                  importer: Any) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "day1.xml").write_bytes(camt053("D1"))
    (inbox / "day2.xml").write_bytes(camt053("D2"))
    (inbox / ".day3.xml").write_bytes(camt053("D3"))  # hidden: still being copied
    (inbox / "growing.xml").write_bytes(camt053("D4"))  # mtime now: not stable yet
    for name in ("day1.xml", "day2.xml"):
        settle(inbox / name)
    settings = Settings(data_dir=str(tmp_path / "var"), sources={
        "local": SourceSettings(kind="folder", path=str(inbox), pattern="*.xml",
                                stable_seconds=30)})
    first = pull_all(db, settings, importer=importer)
    second = pull_all(db, settings, importer=importer)
    assert [(f.name, f.outcome) for f in first[0].files] == [
        ("day1.xml", "imported"), ("day2.xml", "imported"), ("growing.xml", "waiting")]
    assert sorted(p.name for p in (inbox / "archive").iterdir()) == ["day1.xml", "day2.xml"]
    assert [(f.name, f.outcome) for f in second[0].files] == [("growing.xml", "waiting")]
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(BankFileRow)) == 2


def test_same_bytes_under_a_new_name_are_not_imported_twice(db: Database, tmp_path: Path,
                                                             importer: Any) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    data = camt053("R1")
    (inbox / "a.xml").write_bytes(data)
    settle(inbox / "a.xml")
    source = FolderSource("f", SourceSettings(kind="folder", path=str(inbox)))
    from reconciler.pulling import pull_source

    first = pull_source(db, source, importer=importer)
    (inbox / "a-resent.xml").write_bytes(data)
    settle(inbox / "a-resent.xml")
    second = pull_source(db, source, importer=importer)
    assert [f.outcome for f in first.files] == ["imported"]
    assert [(f.name, f.outcome) for f in second.files] == [("a-resent.xml", "duplicate")]
    assert (inbox / "archive" / "a-resent.xml").exists()


def test_missing_folder_is_a_clear_error(db: Database, tmp_path: Path, importer: Any) -> None:
    settings = Settings(sources={"gone": SourceSettings(kind="folder",
                                                        path=str(tmp_path / "nope"))})
    [report] = pull_all(db, settings, importer=importer)
    assert report.error is not None and "does not exist" in report.error
