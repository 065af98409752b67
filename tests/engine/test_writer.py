"""The matcher run's SQLite writer: a transaction per decision at the driver, and the log
copied back by the checkpointing thread while the writer commits."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from reconciler.db.prepared import holds_write_lock
from reconciler.db.session import Database, init_database
from reconciler.db.writer import writer_connection


def test_the_log_stays_bounded_and_autocheckpoint_comes_back(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'recon.db'}")
    init_database(db)
    log = Path(f"{tmp_path / 'recon.db'}-wal")
    with db.engine.begin() as c:
        c.execute(text("CREATE TABLE filler (id INTEGER PRIMARY KEY, body BLOB)"))
    with writer_connection(db) as writer:
        assert writer.session.scalar(text("PRAGMA wal_autocheckpoint")) == 0
        written = 0
        for _ in range(6000):  # ~100 MB through the log, one commit per row
            with writer.decision() as session:
                session.execute(text("INSERT INTO filler (body) VALUES (:b)"),
                                {"b": os.urandom(16_000)})
            written += 16_000
        assert writer.session.scalar(text("SELECT count(*) FROM filler")) == 6000
        restarts = writer.log_restarts
        # Copied into the database while the writer went on, by the other thread.
        assert (tmp_path / "recon.db").stat().st_size > written // 2
    # ... and the log started over instead of keeping every commit, although the writer
    # never left a gap of its own between two decisions: it paused for the restarts.
    assert restarts >= 1
    assert log.stat().st_size < written
    with db.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 10_000
    db.dispose()


def test_each_decision_is_one_transaction_that_takes_the_lock_as_it_begins(
        tmp_path: Path) -> None:
    """BEGIN IMMEDIATE: a second writer is refused from the decision's first statement on,
    even when that statement only reads; a decision that fails leaves nothing behind, one
    that ends is committed for every other reader at once; and the connection goes back to
    the pool as it came."""
    db = Database(f"sqlite:///{tmp_path / 'recon.db'}")
    init_database(db)
    other = sqlite3.connect(tmp_path / "recon.db", timeout=0)
    with writer_connection(db) as writer:
        with writer.decision() as session:
            assert session.scalar(text("SELECT count(*) FROM journal_head")) == 1
            assert holds_write_lock(session)
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            session.execute(text("UPDATE journal_head SET seq = 5"))
        assert other.execute("SELECT seq FROM journal_head").fetchone() == (5,)
        with pytest.raises(RuntimeError), writer.decision() as session:
            session.execute(text("UPDATE journal_head SET seq = 6"))
            raise RuntimeError("a rule refused the decision")
        assert other.execute("SELECT seq FROM journal_head").fetchone() == (5,)
        assert not holds_write_lock(writer.session)
        other.execute("BEGIN IMMEDIATE")  # the lock is free between decisions
        other.rollback()
    other.close()
    with db.engine.connect() as c:
        driver = c.connection.driver_connection
        assert driver is not None and driver.isolation_level == ""
    db.dispose()


def test_an_ordinary_session_holds_the_lock_only_once_it_writes(db: Database) -> None:
    with db.session() as session:
        session.scalar(text("SELECT count(*) FROM journal_head"))
        assert not holds_write_lock(session)
        session.execute(text("UPDATE journal_head SET seq = seq"))
        assert holds_write_lock(session) is (db.engine.dialect.name == "sqlite")
        session.rollback()


def test_the_database_file_is_flushed_before_each_restart_not_during_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The writer waits while the log restarts, and the restart must sync the database file
    first. The pages the passive checkpoints copied are flushed beforehand, from the
    checkpointing thread, so that sync (inside the writer's pause) has little left to do.
    The real flush and the real restart run; the spies only record their order."""
    from reconciler.db import writer as writer_module

    events: list[str] = []
    real_flush, real_restart = writer_module._flush, writer_module._Restarts.restart

    def flush(database: str | None) -> None:
        real_flush(database)
        events.append(f"flush {database}")

    def restart(self: writer_module._Restarts, connection: object) -> None:
        events.append("restart")
        real_restart(self, connection)  # type: ignore[arg-type]

    monkeypatch.setattr(writer_module, "_flush", flush)
    monkeypatch.setattr(writer_module._Restarts, "restart", restart)
    path = tmp_path / "recon.db"
    db = Database(f"sqlite:///{path}")
    init_database(db)
    with db.engine.begin() as c:
        c.execute(text("CREATE TABLE filler (id INTEGER PRIMARY KEY, body BLOB)"))
    with writer_connection(db) as writer:
        for _ in range(6000):  # ~100 MB through the log, one commit per row
            with writer.decision() as session:
                session.execute(text("INSERT INTO filler (body) VALUES (:b)"),
                                {"b": os.urandom(16_000)})
        restarts = writer.log_restarts
    assert restarts >= 1 and events.count("restart") >= restarts
    previous = None
    for event in events:
        if event == "restart":
            assert previous == f"flush {path}", events  # a flush of this file right before
        previous = event
    with sqlite3.connect(path) as check:
        assert check.execute("SELECT count(*) FROM filler").fetchone() == (6000,)
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    db.dispose()


def test_a_flush_that_cannot_be_done_is_left_to_the_restart(tmp_path: Path) -> None:
    """An in-memory database has no file; a file that cannot be opened is not this
    thread's business (the restart's own sync reports what SQLite finds): no error either
    way, so the checkpointing thread goes on."""
    from reconciler.db.writer import _flush

    for database in (None, "", ":memory:", "file:shared?mode=memory&cache=shared",
                     str(tmp_path / "missing" / "recon.db")):
        _flush(database)
    present = tmp_path / "recon.db"
    present.write_bytes(b"x" * 4096)
    _flush(str(present))
    assert present.read_bytes() == b"x" * 4096
