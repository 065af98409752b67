"""SQLite: the write-ahead log copied back into the database by a second thread.

A matcher run commits each of its decisions. By default SQLite copies its log back into the
database file (a checkpoint) inside whichever commit crosses the threshold, so the single
writer stops for the random writes and the two disk flushes. During a long run of commits
the writer turns that off for its own connection and a thread checkpoints on another
connection instead: SQLite lets a checkpoint run beside the writer (PASSIVE mode never
blocks it), and the driver releases the GIL meanwhile, so the copy uses the second core.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, event

from reconciler.db.session import AUTOCHECKPOINT, Database

EVERY_SECONDS = 0.2
RESTART_FRAMES = 10_000  # the log's usual size (AUTOCHECKPOINT): 40 MB


@contextmanager
def writer_connection(db: Database) -> Iterator[Connection]:
    """A connection for a long run of commits, with a checkpointing thread beside it."""
    connection = db.engine.connect()
    _run(connection, "PRAGMA wal_autocheckpoint=0")
    driver = connection.connection.driver_connection
    assert driver is not None  # a live connection, just checked out
    # Every transaction of the writer writes: it takes the write lock as it begins (BEGIN
    # IMMEDIATE), and its first reads need not be disguised as writes to see the latest
    # state (see `reconciler.db.prepared.holds_write_lock`).
    driver.isolation_level = None  # the driver begins no transaction of its own
    event.listen(connection, "begin", _begin_immediate)
    stop = threading.Event()
    thread = threading.Thread(target=_checkpoint_until, args=(db, stop), daemon=True,
                              name="sqlite-checkpoints")
    thread.start()
    try:
        yield connection
    finally:
        stop.set()
        thread.join()
        if connection.in_transaction():
            connection.rollback()
        event.remove(connection, "begin", _begin_immediate)
        driver.isolation_level = ""  # back to the driver's default: deferred
        _run(connection, AUTOCHECKPOINT)
        connection.close()


def _begin_immediate(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _checkpoint_until(db: Database, stop: threading.Event) -> None:
    """Passive checkpoints keep the copy close behind the writer; the log starts over from
    its beginning only after a checkpoint that waited for the writer (RESTART), so once it
    has grown past the usual size one of those follows, short since little is left to copy."""
    with db.engine.connect() as connection:
        while not stop.wait(EVERY_SECONDS):
            row = _run(connection, "PRAGMA wal_checkpoint(PASSIVE)")
            if row is not None and row[1] >= RESTART_FRAMES:  # (busy, log frames, copied)
                _run(connection, "PRAGMA wal_checkpoint(RESTART)")
        _run(connection, "PRAGMA wal_checkpoint(PASSIVE)")


def _run(connection: Connection, pragma: str) -> Any:
    result = connection.exec_driver_sql(pragma)
    row = result.first() if result.returns_rows else None
    connection.commit()
    return row
