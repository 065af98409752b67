"""SQLite's log is copied back by the checkpointing thread while the writer commits."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import text

from reconciler.db.checkpoints import writer_connection
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
