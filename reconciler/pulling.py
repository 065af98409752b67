"""Pull bank files from a source and import them, each file exactly once.

Order per file: fetch, import (its own transaction, done by `reconciler.statements`), record
the import in `source_files`, and only then acknowledge at the source. A crash anywhere leaves
a state the next pull repairs: before the import nothing happened; after it, the same bytes
are found by sha256 in `bank_files` and are acknowledged without a second import.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from connectors.errors import ConnectorError
from connectors.sources.base import BankSource, RemoteFile, open_source, safe_name
from reconciler import journal
from reconciler.db.bank import BankFileRow
from reconciler.db.base import utcnow
from reconciler.db.jobs import SourceFileRow
from reconciler.db.session import Database
from reconciler.errors import ConfigError, ReconError
from reconciler.settings import Settings
from reconciler.statements import MB, import_file

log = logging.getLogger(__name__)

Importer = Callable[..., Any]
ACTOR = "system:pull"


@dataclass(frozen=True, slots=True)
class PulledFile:
    name: str
    # imported | duplicate | quarantined | acknowledged | waiting | failed
    outcome: str
    detail: str = ""
    sha256: str | None = None


@dataclass(frozen=True, slots=True)
class PullReport:
    source: str
    files: tuple[PulledFile, ...] = ()
    error: str | None = None

    def count(self, outcome: str) -> int:
        return sum(1 for f in self.files if f.outcome == outcome)

    @property
    def imported(self) -> int:
        return self.count("imported")


def default_importer(max_bytes: int | None = None) -> Importer:
    """`reconciler.statements.import_file`, the statements slice's one way to import a file,
    with the size cap from the settings."""
    return functools.partial(import_file, max_bytes=max_bytes)


def pull_all(db: Database, settings: Settings, names: Iterable[str] | None = None, *,
             importer: Importer | None = None) -> list[PullReport]:
    """Pull every configured source (or the named ones); one failing source stops no other."""
    chosen = list(names) if names else sorted(settings.sources)
    unknown = [n for n in chosen if n not in settings.sources]
    if unknown:
        known = ", ".join(sorted(settings.sources)) or "none configured"
        raise ConfigError(f"unknown source {unknown[0]!r} (known: {known})")
    reports = []
    for name in chosen:
        try:
            source = open_source(name, settings.sources[name])
        except ReconError as exc:
            reports.append(PullReport(name, error=str(exc)))
            continue
        try:
            importer = importer or default_importer(settings.max_file_mb * MB)
            reports.append(pull_source(db, source, importer=importer,
                                       quarantine_dir=Path(settings.data_dir) / "quarantine"))
        finally:
            source.close()
    return reports


def pull_source(db: Database, source: BankSource, *, importer: Importer | None = None,
                quarantine_dir: Path | None = None,
                now: dt.datetime | None = None) -> PullReport:
    importer = importer or default_importer()
    try:
        offered = source.list_files()
    except ReconError as exc:
        return PullReport(source.name, error=str(exc))
    results: list[PulledFile] = []
    for file in offered:
        try:
            pulled = _pull_one(db, source, file, importer, quarantine_dir, now or utcnow())
        except ConnectorError as exc:
            # The connection itself is gone (host key, network): stop this source here.
            results.append(PulledFile(file.name, "failed", str(exc)))
            return PullReport(source.name, tuple(results), error=str(exc))
        if pulled is not None:
            results.append(pulled)
    return PullReport(source.name, tuple(results))


def _state(session: Session, source: str, file: RemoteFile) -> SourceFileRow | None:
    return session.scalars(select(SourceFileRow).where(
        SourceFileRow.source == source, SourceFileRow.name == file.name,
        SourceFileRow.size == file.size, SourceFileRow.mtime == file.mtime)).first()


def _is_stable(source: BankSource, file: RemoteFile, row: SourceFileRow,
               now: dt.datetime, uses_marker: bool) -> bool:
    """A file still being uploaded must not be taken: the bank's done-marker, else a size and
    mtime unchanged for `stable_seconds` (by the bank's clock, or since we first saw them)."""
    if uses_marker:
        return file.complete
    limit = dt.timedelta(seconds=source.stable_seconds)
    if now.timestamp() - file.mtime >= limit.total_seconds():
        return True
    return now - row.first_seen_at >= limit


def _pull_one(db: Database, source: BankSource, file: RemoteFile, importer: Importer,
              quarantine_dir: Path | None, now: dt.datetime) -> PulledFile | None:
    name = safe_name(file.name)
    uses_marker = bool(getattr(getattr(source, "settings", None), "done_marker", None))
    with db.transaction() as session:
        row = _state(session, source.name, file)
        if row is not None and row.state in ("acknowledged", "failed"):
            return None  # taken before; kept in the table because the bank has no archive
        pending_ack = row is not None and row.state == "imported"
        if row is None:
            # Earlier sightings of a file that has grown since are of no use any more.
            session.execute(delete(SourceFileRow).where(
                SourceFileRow.source == source.name, SourceFileRow.name == name,
                SourceFileRow.state == "seen"))
            row = SourceFileRow(source=source.name, name=name, size=file.size, mtime=file.mtime,
                                state="seen", first_seen_at=now)
            session.add(row)
            session.flush()
        if not pending_ack and not _is_stable(source, file, row, now, uses_marker):
            return PulledFile(name, "waiting", "still being written")
        row_id = row.id
    if pending_ack:
        return _acknowledge(db, source, file, row_id, "acknowledged",
                            "imported earlier; acknowledged now")

    data = source.fetch(file)
    sha = hashlib.sha256(data).hexdigest()
    with db.session() as session:
        known = session.scalars(select(BankFileRow).where(BankFileRow.sha256 == sha)).first()
    # A quarantined file is parsed again when it comes again: the parser may have been fixed.
    if known is not None and known.status != "quarantined":
        # Imported before (a crash after the import, or the bank offered it twice).
        _record(db, row_id, "imported", sha, known.id, "duplicate", None, source.name, name)
        return _acknowledge(db, source, file, row_id, "duplicate",
                            f"same bytes as file {known.id} ({known.filename}); not imported "
                            "again", sha)
    try:
        result = importer(db, data, name, source=source.name)
    except ReconError as exc:
        # Nothing was stored: keep the bytes for a person, never block the other files.
        kept = _quarantine(quarantine_dir, source.name, name, sha, data)
        _record(db, row_id, "failed", sha, None, "quarantined", f"{exc} (kept in {kept})",
                source.name, name)
        if getattr(source, "acknowledge_rejected", False):
            return _acknowledge(db, source, file, row_id, "quarantined", str(exc), sha)
        return PulledFile(name, "quarantined", str(exc), sha)
    except Exception as exc:  # a bug or the database: leave the file for the next pull
        log.exception("sources.%s: importing %s failed", source.name, name)
        return PulledFile(name, "failed", f"{type(exc).__name__}: {exc}", sha)
    status, detail = _describe(result)
    with db.session() as session:
        stored = session.scalars(select(BankFileRow.id).where(BankFileRow.sha256 == sha)).first()
    _record(db, row_id, "imported", sha, stored, status, None, source.name, name)
    return _acknowledge(db, source, file, row_id, status, detail, sha)


def _describe(result: Any) -> tuple[str, str]:
    status = getattr(result, "status", None)
    if status is None and isinstance(result, dict):
        status = result.get("status")
    status = str(getattr(status, "value", status) or "imported")
    if status not in ("imported", "duplicate", "quarantined"):
        status = "imported"
    summary = getattr(result, "summary", None) or getattr(result, "message", None)
    return status, str(summary) if summary else ""


def _record(db: Database, row_id: int, state: str, sha: str | None, bank_file_id: int | None,
            outcome: str, error: str | None, source: str, name: str) -> None:
    with db.transaction() as session:
        row = session.get(SourceFileRow, row_id)
        assert row is not None
        row.state, row.sha256, row.bank_file_id = state, sha, bank_file_id
        row.outcome, row.error = outcome, error
        if state == "imported":
            row.imported_at = utcnow()
        journal.record(session, actor=ACTOR, action=f"source_file.{state}",
                       subject=f"source:{source}/{name}", reason=error or outcome,
                       data={"sha256": sha, "bank_file_id": bank_file_id, "outcome": outcome})


def _acknowledge(db: Database, source: BankSource, file: RemoteFile, row_id: int,
                 outcome: str, detail: str, sha: str | None = None) -> PulledFile:
    try:
        source.acknowledge(file)
    except ReconError as exc:
        # Imported but not acknowledged: the next pull acknowledges it without re-importing.
        return PulledFile(file.name, outcome, f"{detail}; acknowledgement failed: {exc}", sha)
    with db.transaction() as session:
        row = session.get(SourceFileRow, row_id)
        assert row is not None
        row.state, row.acknowledged_at = "acknowledged", utcnow()
        journal.record(session, actor=ACTOR, action="source_file.acknowledged",
                       subject=f"source:{source.name}/{file.name}", reason=outcome,
                       data={"sha256": row.sha256})
    return PulledFile(file.name, outcome, detail, sha)


def _quarantine(folder: Path | None, source: str, name: str, sha: str, data: bytes) -> str:
    if folder is None:
        return "the database only"
    target = folder / safe_name(source) / f"{sha[:12]}-{name}"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return str(target)
