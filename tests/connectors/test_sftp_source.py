"""The SFTP source against a real OpenSSH server on loopback."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from connectors.errors import ConnectorError, HostKeyError, UnsafeNameError
from connectors.sources.base import RemoteFile, safe_name
from connectors.sources.sftp import SftpSource
from reconciler.db.bank import BankFileRow
from reconciler.db.jobs import SourceFileRow
from reconciler.db.session import Database
from reconciler.pulling import pull_source
from reconciler.settings import SourceSettings
from tests.connectors.conftest import SshServer, camt053


def make_source(sshd: SshServer, inbox: Path, **overrides: Any) -> SftpSource:
    values: dict[str, Any] = dict(
        kind="sftp", host=sshd.host, port=sshd.port, username=sshd.user,
        key_file=str(sshd.user_key), known_hosts=str(sshd.known_hosts), remote_dir=str(inbox),
        pattern="*.xml", stable_seconds=2, timeout_seconds=5, retries=1)
    values.update(overrides)
    return SftpSource("bank", SourceSettings(**values), retry_delay=0.05)


def inbox_for(sshd: SshServer) -> Path:
    folder = sshd.root / uuid.uuid4().hex[:8]
    folder.mkdir()
    return folder


def settle(path: Path, seconds_ago: int = 60) -> None:
    """Give a file an old mtime: the upload finished a while ago."""
    then = time.time() - seconds_ago
    os.utime(path, (then, then))


def bank_file_count(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(BankFileRow)) or 0


def test_pull_imports_files_and_archive_makes_second_pull_take_nothing(
        db: Database, sshd: SshServer, importer: Any) -> None:
    inbox = inbox_for(sshd)
    for n in (1, 2):
        (inbox / f"stmt{n}.xml").write_bytes(camt053(f"S{n}"))
        settle(inbox / f"stmt{n}.xml")
    (inbox / "readme.txt").write_text("not a statement")
    source = make_source(sshd, inbox, archive_dir=str(inbox / "archive"))
    try:
        first = pull_source(db, source, importer=importer)
        second = pull_source(db, source, importer=importer)
    finally:
        source.close()
    assert first.error is None
    assert [(f.name, f.outcome) for f in first.files] == [("stmt1.xml", "imported"),
                                                          ("stmt2.xml", "imported")]
    assert sorted(p.name for p in (inbox / "archive").iterdir()) == ["stmt1.xml", "stmt2.xml"]
    assert (inbox / "readme.txt").exists()
    assert second.files == ()
    assert bank_file_count(db) == 2


def test_without_archive_the_state_table_remembers(db: Database, sshd: SshServer,
                                                   importer: Any) -> None:
    inbox = inbox_for(sshd)
    (inbox / "a.xml").write_bytes(camt053("A1"))
    settle(inbox / "a.xml")
    source = make_source(sshd, inbox)
    try:
        first = pull_source(db, source, importer=importer)
        second = pull_source(db, source, importer=importer)
    finally:
        source.close()
    assert [f.outcome for f in first.files] == ["imported"]
    assert second.files == ()
    assert (inbox / "a.xml").exists()  # nothing moved at the bank
    with db.session() as session:
        row = session.scalars(select(SourceFileRow)).one()
    assert row.state == "acknowledged" and row.sha256 is not None


def test_file_being_written_is_skipped_then_taken(db: Database, sshd: SshServer,
                                                  importer: Any) -> None:
    inbox = inbox_for(sshd)
    data = camt053("W1")
    partial = inbox / "w.xml"
    partial.write_bytes(data[: len(data) // 2])  # mtime now: the upload is under way
    source = make_source(sshd, inbox, stable_seconds=30)
    try:
        during = pull_source(db, source, importer=importer)
        partial.write_bytes(data)
        settle(partial)
        after = pull_source(db, source, importer=importer)
    finally:
        source.close()
    assert [(f.name, f.outcome) for f in during.files] == [("w.xml", "waiting")]
    assert [(f.name, f.outcome) for f in after.files] == [("w.xml", "imported")]
    assert bank_file_count(db) == 1
    with db.session() as session:  # the sighting of the half-written file is gone
        assert [r.state for r in session.scalars(select(SourceFileRow))] == ["acknowledged"]


def test_unchanged_file_is_taken_once_stable_seconds_passed_since_first_seen(
        db: Database, sshd: SshServer, importer: Any) -> None:
    inbox = inbox_for(sshd)
    path = inbox / "fresh.xml"
    path.write_bytes(camt053("F1"))
    future = time.time() + 3600  # the bank's clock runs ahead: mtime age cannot be trusted
    os.utime(path, (future, future))
    source = make_source(sshd, inbox, stable_seconds=1)
    try:
        first = pull_source(db, source, importer=importer)
        time.sleep(1.1)
        second = pull_source(db, source, importer=importer)
    finally:
        source.close()
    assert [f.outcome for f in first.files] == ["waiting"]
    assert [f.outcome for f in second.files] == ["imported"]


def test_done_marker_decides(db: Database, sshd: SshServer, importer: Any) -> None:
    inbox = inbox_for(sshd)
    (inbox / "m.xml").write_bytes(camt053("M1"))
    settle(inbox / "m.xml")
    source = make_source(sshd, inbox, done_marker=".done", archive_dir=str(inbox / "arc"))
    try:
        before = pull_source(db, source, importer=importer)
        (inbox / "m.xml.done").write_text("")
        after = pull_source(db, source, importer=importer)
    finally:
        source.close()
    assert [f.outcome for f in before.files] == ["waiting"]
    assert [f.outcome for f in after.files] == ["imported"]
    assert not (inbox / "m.xml.done").exists()


def test_changed_host_key_stops_the_pull(db: Database, sshd: SshServer, importer: Any) -> None:
    inbox = inbox_for(sshd)
    (inbox / "x.xml").write_bytes(camt053("X1"))
    settle(inbox / "x.xml")
    source = make_source(sshd, inbox, known_hosts=str(sshd.wrong_known_hosts))
    with pytest.raises(HostKeyError, match="CHANGED"):
        source.list_files()
    report = pull_source(db, source, importer=importer)
    source.close()
    assert report.error is not None and "CHANGED" in report.error
    assert bank_file_count(db) == 0


def test_unknown_host_is_refused_never_added(tmp_path: Path, sshd: SshServer) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    source = make_source(sshd, inbox_for(sshd), known_hosts=str(empty))
    with pytest.raises(HostKeyError, match="not in"):
        source.list_files()
    assert empty.read_text() == ""


def test_broken_file_quarantined_while_others_import(db: Database, sshd: SshServer,
                                                     importer: Any, tmp_path: Path) -> None:
    inbox = inbox_for(sshd)
    (inbox / "1good.xml").write_bytes(camt053("G1"))
    (inbox / "2broken.xml").write_bytes(b"\x00\x01 this is no bank statement")
    (inbox / "3good.xml").write_bytes(camt053("G3"))
    for path in inbox.iterdir():
        settle(path)
    source = make_source(sshd, inbox, archive_dir=str(inbox / "archive"))
    try:
        report = pull_source(db, source, importer=importer, quarantine_dir=tmp_path / "q")
        again = pull_source(db, source, importer=importer, quarantine_dir=tmp_path / "q")
    finally:
        source.close()
    outcomes = {f.name: f.outcome for f in report.files}
    assert outcomes == {"1good.xml": "imported", "2broken.xml": "quarantined",
                        "3good.xml": "imported"}
    assert again.files == ()  # the broken file is not retried over and over
    with db.session() as session:
        imported = session.scalars(select(BankFileRow.filename)
                                   .where(BankFileRow.status == "imported")).all()
    assert sorted(imported) == ["1good.xml", "3good.xml"]


class CrashAfterImport(SftpSource):
    """The process dies after the import committed, before the bank heard of it."""

    def acknowledge(self, file: RemoteFile) -> None:
        raise SystemExit("killed between import and acknowledgement")


def test_crash_between_import_and_ack_does_not_import_twice(db: Database, sshd: SshServer,
                                                            importer: Any) -> None:
    inbox = inbox_for(sshd)
    (inbox / "c.xml").write_bytes(camt053("C1"))
    settle(inbox / "c.xml")
    settings = make_source(sshd, inbox, archive_dir=str(inbox / "archive")).settings
    crashing = CrashAfterImport("bank", settings, retry_delay=0.05)
    with pytest.raises(SystemExit):
        pull_source(db, crashing, importer=importer)
    crashing.close()
    with db.transaction() as session:  # even the state row may be lost with the process
        session.query(SourceFileRow).delete()
    calls: list[str] = []

    def counting(db: Database, data: bytes, filename: str, *, source: str | None = None) -> Any:
        calls.append(filename)
        return importer(db, data, filename, source=source)

    healthy = SftpSource("bank", settings, retry_delay=0.05)
    try:
        report = pull_source(db, healthy, importer=counting)
    finally:
        healthy.close()
    assert [(f.name, f.outcome) for f in report.files] == [("c.xml", "duplicate")]
    assert calls == []  # found by sha256, not imported again
    assert bank_file_count(db) == 1
    assert (inbox / "archive" / "c.xml").exists()


@pytest.mark.parametrize("name", ["..", "../etc/passwd", "a/b.xml", "x\x00.xml", "bad\n.xml",
                                  "a\\b.xml", ""])
def test_remote_names_never_trusted_as_paths(name: str) -> None:
    with pytest.raises(UnsafeNameError):
        safe_name(name)


def test_plain_names_pass() -> None:
    assert safe_name("camt053_2026-11-20.xml") == "camt053_2026-11-20.xml"


def test_unreachable_server_is_retried_then_given_up(tmp_path: Path, sshd: SshServer) -> None:
    from tests.connectors.conftest import free_port

    source = make_source(sshd, tmp_path, port=free_port(), retries=2)  # nobody listens there
    started = time.monotonic()
    with pytest.raises(ConnectorError, match="gave up after 3 attempts"):
        source.list_files()
    assert time.monotonic() - started >= 0.05 + 0.1  # waited 0.05 s, then 0.1 s
