"""SQLite: the matcher run's single writer, its transactions, and the checkpoints beside it.

A matcher run commits each of its decisions, a hundred thousand of them. Two costs of a
commit are avoided here without changing what a decision is (one database transaction):

- SQLAlchemy's session bookkeeping for each transaction (begin, commit, their events)
  costs more than the transaction's own statements. The writer's driver is in autocommit
  mode and each decision is begun (BEGIN IMMEDIATE) and committed at the driver, inside one
  long-lived session whose own "transaction" is only bookkeeping: it never reaches SQLite.
- By default SQLite copies its log back into the database file (a checkpoint) inside
  whichever commit crosses the threshold, so the single writer stops for the random writes
  and the two disk flushes. During the run the writer turns that off for its own connection
  and a thread checkpoints on another connection instead: SQLite lets a checkpoint run beside
  the writer (PASSIVE mode never blocks it), and the driver releases the GIL meanwhile, so
  the copy uses the second core. The log starts over only in a short pause of the writer,
  once that thread has copied nearly all of it and flushed the database file.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from reconciler.db.session import AUTOCHECKPOINT, Database

EVERY_SECONDS = 0.2
RESTART_FRAMES = 10_000  # the log's usual size (AUTOCHECKPOINT): 40 MB
CAUGHT_UP_FRAMES = 300  # frames left for the restart to copy and flush
CATCH_UP_ROUNDS = 6  # at most, before a restart (should the writer outpace them)


class _Restarts:
    """The handshake that lets the log start over. A RESTART checkpoint needs a moment with
    no writer, which a writer committing back to back never leaves on its own (SQLite's busy
    handler polls, the writer takes the lock again at once): the checkpointing thread asks,
    the writer pauses between two decisions, the thread restarts the log and lets it go on."""

    WAIT_SECONDS = 1.0  # a writer that is not between decisions by then is not deciding

    def __init__(self) -> None:
        self.wanted = threading.Event()
        self.paused = threading.Event()
        self.resume = threading.Event()
        self.count = 0  # restarts that went through (a busy one is tried again later)

    def pause_if_wanted(self) -> None:
        """The writer, between two decisions."""
        if self.wanted.is_set():
            self.paused.set()
            self.resume.wait(self.WAIT_SECONDS * 10)
            self.resume.clear()
            self.paused.clear()

    def restart(self, connection: Connection) -> None:
        """The checkpointing thread: the log starts over while the writer waits."""
        self.wanted.set()
        self.paused.wait(self.WAIT_SECONDS)
        try:
            busy = _run(connection, "PRAGMA wal_checkpoint(RESTART)")[0]
            self.count += not busy
        finally:
            self.wanted.clear()
            self.resume.set()


class SqliteWriter:
    """One session on the writer's connection; `decision()` is one database transaction."""

    def __init__(self, connection: Connection, restarts: _Restarts) -> None:
        driver = connection.connection.driver_connection
        assert driver is not None  # a live connection, checked out by `writer_connection`
        self._driver: Any = driver
        self._restarts = restarts
        self.session = Session(bind=connection, expire_on_commit=False)
        # Bookkeeping only: the driver is in autocommit mode, so this begins nothing in SQLite.
        self.session.begin()

    @contextmanager
    def decision(self) -> Iterator[Session]:
        """One database transaction. BEGIN IMMEDIATE takes the write lock as it begins, so
        the decision's first reads see the latest state and need not be disguised as writes
        (see `reconciler.db.prepared.holds_write_lock`). Rolled back on any exception."""
        self._restarts.pause_if_wanted()
        self._driver.execute("BEGIN IMMEDIATE")
        try:
            yield self.session
        except BaseException:
            if self._driver.in_transaction:
                self._driver.execute("ROLLBACK")
            raise
        self._driver.execute("COMMIT")

    @property
    def log_restarts(self) -> int:
        """How many times the log has started over during this writer's run."""
        return self._restarts.count

    def close(self) -> None:
        self.session.close()


@contextmanager
def writer_connection(db: Database) -> Iterator[SqliteWriter]:
    """The writer for a long run of decisions, with a checkpointing thread beside it."""
    connection = db.engine.connect()
    _run(connection, "PRAGMA wal_autocheckpoint=0")
    driver = connection.connection.driver_connection
    assert driver is not None  # a live connection, just checked out
    driver.isolation_level = None  # autocommit: the writer begins and commits each decision
    stop = threading.Event()
    restarts = _Restarts()
    thread = threading.Thread(target=_checkpoint_until, args=(db, stop, restarts),
                              daemon=True, name="sqlite-checkpoints")
    thread.start()
    writer = SqliteWriter(connection, restarts)
    try:
        yield writer
    finally:
        stop.set()
        thread.join()
        writer.close()
        if driver.in_transaction:  # a decision left unfinished by an interrupt
            driver.execute("ROLLBACK")
        driver.isolation_level = ""  # back to the driver's default: deferred
        _run(connection, AUTOCHECKPOINT)
        connection.close()


def _checkpoint_until(db: Database, stop: threading.Event, restarts: _Restarts) -> None:
    """Passive checkpoints keep the copy close behind the writer; the log starts over from
    its beginning only after a checkpoint with no writer (RESTART), so once it has grown past
    the usual size one of those follows, prepared so that it is short (`_ready_to_restart`)."""
    database = db.engine.url.database
    with db.engine.connect() as connection:
        while not stop.wait(EVERY_SECONDS):
            row = _run(connection, "PRAGMA wal_checkpoint(PASSIVE)")
            if row is not None and row[1] >= RESTART_FRAMES:  # (busy, log frames, copied)
                _ready_to_restart(connection, row[1], database)
                restarts.restart(connection)
        _run(connection, "PRAGMA wal_checkpoint(PASSIVE)")


def _ready_to_restart(connection: Connection, frames: int, database: str | None) -> None:
    """Copy and flush nearly everything while the writer goes on, so that its pause for the
    restart is short.

    A passive checkpoint that the writer overtakes leaves the pages it copied unsynced in the
    database file (the log still holds them); the restart, which must sync the file before
    the log starts over, then flushed all of them while the writer waited: 150 to 200 ms,
    a hundred times a run. Here the file is flushed first, from this thread (a sync of the
    file on any descriptor flushes its pages), and the rounds go on until the writer added
    few frames meanwhile: the restart copies and flushes only those. SQLite's own sync at the
    restart still guarantees the order; this one only takes its work out of the pause."""
    for _ in range(CATCH_UP_ROUNDS):
        row = _run(connection, "PRAGMA wal_checkpoint(PASSIVE)")
        _flush(database)
        if row is None or row[1] - frames <= CAUGHT_UP_FRAMES:
            return
        frames = row[1]


def _flush(database: str | None) -> None:
    """Sync the database file's written pages to the disk (not for an in-memory database).
    Only an early start of SQLite's own sync: should it fail, the restart does the work."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    try:
        descriptor = os.open(database, os.O_RDONLY)
    except OSError:
        return
    try:
        getattr(os, "fdatasync", os.fsync)(descriptor)  # macOS has no fdatasync
    except OSError:
        pass
    finally:
        os.close(descriptor)


def _run(connection: Connection, pragma: str) -> Any:
    result = connection.exec_driver_sql(pragma)
    row = result.first() if result.returns_rows else None
    connection.commit()
    return row
