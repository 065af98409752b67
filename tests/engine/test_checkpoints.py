"""SQLite's log is copied back by the checkpointing thread while the writer commits."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from reconciler.db.checkpoints import writer_connection
from reconciler.db.prepared import holds_write_lock
from reconciler.db.session import Database, init_database


def test_the_log_stays_bounded_and_autocheckpoint_comes_back(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'recon.db'}")
    init_database(db)
    log = Path(f"{tmp_path / 'recon.db'}-wal")
    with db.engine.begin() as c:
        c.execute(text("CREATE TABLE filler (id INTEGER PRIMARY KEY, body BLOB)"))
    with writer_connection(db) as connection:
        assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
        connection.commit()
        written = 0
        for _ in range(6000):  # ~100 MB through the log, one commit per row
            connection.execute(text("INSERT INTO filler (body) VALUES (:b)"),
                               {"b": os.urandom(16_000)})
            connection.commit()
            written += 16_000
        assert connection.exec_driver_sql("SELECT count(*) FROM filler").scalar() == 6000
        connection.commit()
        # Copied into the database while the writer went on, by the other thread.
        assert (tmp_path / "recon.db").stat().st_size > written // 2
    # ... and the log started over instead of keeping every commit.
    assert log.stat().st_size < written
    with db.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 10_000
    db.dispose()


def test_the_writer_takes_the_lock_as_each_transaction_begins(tmp_path: Path) -> None:
    """BEGIN IMMEDIATE: a second writer is refused from the writer's first statement on, even
    when that statement only reads; and the connection goes back to the pool as it came."""
    db = Database(f"sqlite:///{tmp_path / 'recon.db'}")
    init_database(db)
    with writer_connection(db) as connection:
        session = Session(bind=connection)
        with session.begin():
            assert session.scalar(text("SELECT count(*) FROM journal_head")) == 1
            assert holds_write_lock(session)
            other = sqlite3.connect(tmp_path / "recon.db", timeout=0)
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            other.close()
        session.close()
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
