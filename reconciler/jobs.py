"""Scheduled work as plain functions, plus the lease that lets only one process run a job.

Each job takes the database and the settings and returns a summary dict; `run_exclusive`
wraps it with a lease row (so several `recon serve` processes on one PostgreSQL never run the
same job at once) and a `job_runs` row (history and last error for `recon jobs`). The
scheduler (`reconciler.scheduler`) only wires these to triggers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import json
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from reconciler.db.base import utcnow
from reconciler.db.jobs import JobLeaseRow, JobRunRow
from reconciler.db.session import Database
from reconciler.outbox import deliver
from reconciler.pulling import Importer, pull_all
from reconciler.settings import Settings

log = logging.getLogger(__name__)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
DEFAULT_TTL = 120.0  # seconds; renewed every third of it while the job runs

JobFunction = Callable[[], dict[str, Any]]


def process_holder() -> str:
    """Who holds a lease: host, pid and a random part (pids repeat across hosts)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


# --- leases ------------------------------------------------------------------------------


def acquire_lease(db: Database, job: str, holder: str, ttl: float = DEFAULT_TTL) -> bool:
    """Take the job's lease if nobody holds an unexpired one; atomic on every backend."""
    now = utcnow()
    with db.transaction() as session:
        if session.get(JobLeaseRow, job) is None:
            try:
                with session.begin_nested():
                    session.add(JobLeaseRow(job=job, holder=None, expires_at=EPOCH, runs=0))
            except IntegrityError:
                pass  # another process created it at the same moment
        result = session.execute(
            update(JobLeaseRow)
            .where(JobLeaseRow.job == job, JobLeaseRow.expires_at < now)
            .values(holder=holder, expires_at=now + dt.timedelta(seconds=ttl), renewed_at=now,
                    runs=JobLeaseRow.runs + 1))
        return int(getattr(result, "rowcount", 0) or 0) == 1


def renew_lease(db: Database, job: str, holder: str, ttl: float = DEFAULT_TTL) -> bool:
    now = utcnow()
    with db.transaction() as session:
        result = session.execute(
            update(JobLeaseRow).where(JobLeaseRow.job == job, JobLeaseRow.holder == holder)
            .values(expires_at=now + dt.timedelta(seconds=ttl), renewed_at=now))
        return int(getattr(result, "rowcount", 0) or 0) == 1


def release_lease(db: Database, job: str, holder: str) -> None:
    with db.transaction() as session:
        session.execute(
            update(JobLeaseRow).where(JobLeaseRow.job == job, JobLeaseRow.holder == holder)
            .values(holder=None, expires_at=EPOCH))


@dataclass(frozen=True, slots=True)
class JobOutcome:
    job: str
    ran: bool  # False: another process holds the lease
    status: str = "skipped"  # ok | error | skipped
    summary: dict[str, Any] | None = None
    error: str | None = None


def run_exclusive(db: Database, job: str, work: JobFunction, *, holder: str,
                  ttl: float = DEFAULT_TTL) -> JobOutcome:
    """Run `work` if this process can take the job's lease; record the run either way it ends."""
    if not acquire_lease(db, job, holder, ttl):
        return JobOutcome(job, ran=False)
    with db.transaction() as session:
        run = JobRunRow(job=job, holder=holder, status="running", started_at=utcnow(),
                        summary={})
        session.add(run)
        session.flush()
        run_id = run.id
    stop = threading.Event()
    lost = threading.Event()

    def keep_alive() -> None:
        while not stop.wait(ttl / 3):
            try:
                if not renew_lease(db, job, holder, ttl):
                    lost.set()
            except Exception:  # the database blinked; the next renewal may succeed
                log.exception("job %s: renewing the lease failed", job)

    renewer = threading.Thread(target=keep_alive, name=f"lease-{job}", daemon=True)
    renewer.start()
    status, summary, error = "ok", {}, None
    try:
        summary = work() or {}
        if summary.get("errors"):
            status, error = "error", "; ".join(str(e) for e in summary["errors"])
    except Exception as exc:
        log.exception("job %s failed", job)
        status, error = "error", f"{type(exc).__name__}: {exc}"
    finally:
        stop.set()
        renewer.join()
        if lost.is_set():
            summary = {**summary, "warning": "lease lost while running"}
        with db.transaction() as session:
            row = session.get(JobRunRow, run_id)
            assert row is not None
            row.status, row.finished_at = status, utcnow()
            row.summary, row.error = _jsonable(summary), error
        release_lease(db, job, holder)
    return JobOutcome(job, ran=True, status=status, summary=summary, error=error)


def _as_data(result: Any) -> Any:
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        return _jsonable(dataclasses.asdict(result))
    return _jsonable(result)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def recent_runs(db: Database, limit: int = 50, job: str | None = None) -> list[JobRunRow]:
    with db.session() as session:
        query = select(JobRunRow).order_by(JobRunRow.started_at.desc(), JobRunRow.id.desc())
        if job:
            query = query.where(JobRunRow.job == job)
        return list(session.scalars(query.limit(limit)))


# --- the jobs ----------------------------------------------------------------------------


def optional(module: str, name: str) -> Callable[..., Any] | None:
    """A service of another slice, or None while that slice is not installed."""
    try:
        loaded = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name == module:
            return None
        raise
    found = getattr(loaded, name, None)
    return found if callable(found) else None


def pull_job(db: Database, settings: Settings, source: str, *,
             importer: Importer | None = None) -> dict[str, Any]:
    """Pull one source; when something new was imported, match it and post the results."""
    [report] = pull_all(db, settings, [source], importer=importer)
    summary: dict[str, Any] = {"source": source, "files": len(report.files),
                               "imported": report.imported,
                               "quarantined": report.count("quarantined"),
                               "waiting": report.count("waiting")}
    errors = [report.error] if report.error else []
    errors += [f"{f.name}: {f.detail}" for f in report.files if f.outcome == "failed"]
    if report.imported:
        summary["matching"], error = match_after_import(db, settings)
        if error:
            errors.append(error)
    if errors:
        summary["errors"] = errors
    return summary


def match_after_import(db: Database, settings: Settings) -> tuple[dict[str, Any], str | None]:
    """Match what was just imported. A failure here loses nothing: the files are stored and
    the lines stay unreconciled until the next matching run."""
    try:
        return matching_job(db, settings), None
    except Exception as exc:
        log.exception("matching after an import failed")
        return {}, f"matching: {type(exc).__name__}: {exc}"


def matching_job(db: Database, settings: Settings) -> dict[str, Any]:
    run_matching = optional("reconciler.engine", "run_matching")
    if run_matching is None:
        return {"skipped": "the matching engine is not installed"}
    result = run_matching(db, settings)
    return {"result": _as_data(result)}


def outbox_job(db: Database, settings: Settings) -> dict[str, Any]:
    reports = deliver(db, settings)
    summary: dict[str, Any] = {r.sink: {"delivered": r.delivered, "pending": r.pending,
                                        "given_up": r.given_up} for r in reports}
    errors = [f"{r.sink}: {r.last_error}" for r in reports if r.last_error]
    if errors:
        summary["errors"] = errors
    return summary


def dunning_job(db: Database, settings: Settings, on: dt.date | None = None) -> dict[str, Any]:
    run_dunning = optional("reconciler.dunning", "run_dunning")
    if run_dunning is None:
        return {"skipped": "the dunning service is not installed"}
    result = run_dunning(db, settings, on or dt.date.today())
    return {"result": _as_data(result)}


def kpi_job(db: Database, settings: Settings, on: dt.date | None = None) -> dict[str, Any]:
    """Keep the day's KPIs (one row per date, replaced when run again) to chart them."""
    compute = optional("reconciler.kpis", "compute")
    if compute is None:
        return {"skipped": "the KPI service is not installed"}
    from reconciler import kpis
    from reconciler.db.collections import KpiSnapshotRow

    as_of = on or dt.date.today()
    with db.transaction() as session:
        figures = json.loads(kpis.to_json(kpis.compute(kpis.load(session), as_of)))
        row = session.scalars(select(KpiSnapshotRow).where(
            KpiSnapshotRow.as_of == as_of, KpiSnapshotRow.dimension == "all",
            KpiSnapshotRow.value == "")).first()
        if row is None:
            session.add(KpiSnapshotRow(as_of=as_of, dimension="all", value="", figures=figures,
                                       created_at=utcnow()))
        else:
            row.figures, row.created_at = figures, utcnow()
    return {"as_of": as_of.isoformat(), "dso": figures.get("dso")}


__all__ = ["JobOutcome", "acquire_lease", "dunning_job", "kpi_job",
           "matching_job", "outbox_job", "pull_job", "recent_runs", "release_lease",
           "renew_lease", "run_exclusive"]
