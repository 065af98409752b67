"""Backup and restore of the whole database.

SQLite: the online backup API copies a consistent snapshot while the server keeps running.
PostgreSQL: `pg_dump --format=custom` and `pg_restore --clean` (the client tools must be of
the server's major version or newer). A restore replaces everything: run `recon audit verify`
after it to prove the journal came back intact.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from reconciler.errors import ReconError

_TIMEOUT = 3600


def _libpq_url(url: str) -> str:
    """postgresql+psycopg://... -> postgresql://... as the client tools expect."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise ReconError("an in-memory SQLite database cannot be backed up")
    return Path(database)


def backup(url: str, target: Path) -> None:
    if target.exists():
        raise ReconError(f"{target}: exists already; choose a new file name")
    if url.startswith("sqlite"):
        source = sqlite3.connect(_sqlite_path(url))
        destination = sqlite3.connect(target)
        try:
            with destination:
                source.backup(destination)
        finally:
            source.close()
            destination.close()
        return
    _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(target),
          "--dbname", _libpq_url(url)], "pg_dump")


def restore(url: str, source: Path) -> None:
    if not source.is_file():
        raise ReconError(f"{source}: no such backup file")
    if url.startswith("sqlite"):
        backup_db = sqlite3.connect(source)
        try:
            if backup_db.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise ReconError(f"{source}: not a sound SQLite backup")
            destination = sqlite3.connect(_sqlite_path(url))
            try:
                with destination:
                    backup_db.backup(destination)
            finally:
                destination.close()
        except sqlite3.DatabaseError as exc:
            raise ReconError(f"{source}: not a SQLite backup ({exc})") from None
        finally:
            backup_db.close()
        return
    _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
          "--dbname", _libpq_url(url), str(source)], "pg_restore")


def _run(command: list[str], tool: str) -> None:
    if shutil.which(tool) is None:
        raise ReconError(f"{tool} not found: install the PostgreSQL client tools")
    result = subprocess.run(command, capture_output=True, text=True, timeout=_TIMEOUT,
                            check=False)
    if result.returncode != 0:
        message = (result.stderr.strip().splitlines() or ["failed"])[-1]
        raise ReconError(f"{tool}: {message}")
