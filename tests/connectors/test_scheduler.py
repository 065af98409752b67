"""Job leases and the scheduler: one run at a time across processes, take-over on expiry."""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from reconciler import jobs
from reconciler.db.session import Database
from reconciler.scheduler import add_exclusive_job, build_scheduler, start_scheduler
from reconciler.settings import SchedulerSettings, Settings, SinkSettings, SourceSettings
from tests.connectors.conftest import camt053
from tests.connectors.factory import apply, payment_with_items


@pytest.fixture
def second_process(db: Database) -> Iterator[Database]:
    """Another server's own connection pool to the same database."""
    other = Database(db.url)
    yield other
    other.dispose()


def test_lease_is_exclusive_and_taken_over_after_expiry(db: Database,
                                                        second_process: Database) -> None:
    assert jobs.acquire_lease(db, "pull:bank", "server-a", ttl=1.0)
    assert not jobs.acquire_lease(second_process, "pull:bank", "server-b", ttl=1.0)
    assert not jobs.acquire_lease(db, "pull:bank", "server-a", ttl=1.0)  # no re-entry
    time.sleep(1.1)  # server-a died: it stops renewing and its lease runs out
    assert jobs.acquire_lease(second_process, "pull:bank", "server-b", ttl=1.0)
    assert not jobs.renew_lease(db, "pull:bank", "server-a")  # the old holder lost it
    jobs.release_lease(second_process, "pull:bank", "server-b")
    assert jobs.acquire_lease(db, "pull:bank", "server-a", ttl=1.0)


def test_lease_is_renewed_while_a_long_job_runs(db: Database, second_process: Database) -> None:
    attempts: list[bool] = []

    def long_job() -> dict[str, Any]:
        time.sleep(1.0)  # longer than the lease's 0.6 s
        return {"done": True}

    def contender() -> None:
        time.sleep(0.8)
        attempts.append(jobs.acquire_lease(second_process, "kpi", "server-b", ttl=0.6))

    thread = threading.Thread(target=contender)
    thread.start()
    outcome = jobs.run_exclusive(db, "kpi", long_job, holder="server-a", ttl=0.6)
    thread.join()
    assert outcome.ran and outcome.status == "ok" and outcome.summary == {"done": True}
    assert attempts == [False]
    [run] = jobs.recent_runs(db)
    assert run.status == "ok" and run.finished_at is not None and run.holder == "server-a"


def test_failed_job_records_the_error(db: Database) -> None:
    def broken() -> dict[str, Any]:
        raise RuntimeError("bank unreachable")

    outcome = jobs.run_exclusive(db, "outbox", broken, holder="server-a")
    assert outcome.status == "error" and "bank unreachable" in (outcome.error or "")
    [run] = jobs.recent_runs(db)
    assert run.status == "error" and run.error == "RuntimeError: bank unreachable"
    assert jobs.acquire_lease(db, "outbox", "server-b")  # released despite the error


def test_two_schedulers_on_one_database_never_run_a_job_twice_at_once(
        db: Database, second_process: Database) -> None:
    intervals: list[tuple[str, float, float]] = []
    lock = threading.Lock()

    def make_work(server: str) -> Any:
        def work() -> dict[str, Any]:
            start = time.monotonic()
            time.sleep(0.15)
            with lock:
                intervals.append((server, start, time.monotonic()))
            return {}
        return work

    schedulers = []
    for server, database in (("a", db), ("b", second_process)):
        scheduler = BackgroundScheduler()
        add_exclusive_job(scheduler, database, "dunning", make_work(server),
                          IntervalTrigger(seconds=0.05), holder=f"server-{server}", ttl=5)
        schedulers.append(scheduler)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # APScheduler logs skipped firings; not our concern
        for scheduler in schedulers:
            scheduler.start()
        time.sleep(1.5)
        for scheduler in schedulers:
            scheduler.shutdown(wait=True)
    ordered = sorted(intervals, key=lambda item: item[1])
    assert len(ordered) >= 3
    for (_, _, end), (_, start, _) in itertools.pairwise(ordered):
        assert start >= end, "two servers ran the job at the same time"
    assert len(jobs.recent_runs(db, 200, "dunning")) == len(ordered)


def test_start_scheduler_wires_each_source_and_the_outbox(db: Database, tmp_path: Path) -> None:
    settings = Settings(
        data_dir=str(tmp_path), scheduler=SchedulerSettings(outbox_seconds=60),
        sources={"main_bank": SourceSettings(kind="folder", path=str(tmp_path),
                                             schedule="*/15 6-20 * * 1-5"),
                 "manual_only": SourceSettings(kind="folder", path=str(tmp_path))},
        sinks={"erp": SinkSettings(kind="file", path=str(tmp_path / "out"))})
    scheduler = start_scheduler(settings, db)
    assert scheduler is not None
    try:
        ids = {job.id for job in scheduler.get_jobs()}
    finally:
        scheduler.shutdown()
    assert {"pull:main_bank", "outbox"} <= ids and "pull:manual_only" not in ids
    disabled = Settings(scheduler=SchedulerSettings(enabled=False))
    assert start_scheduler(disabled, db) is None


def test_bad_cron_is_a_config_error(db: Database) -> None:
    from reconciler.errors import ConfigError

    settings = Settings(sources={"b": SourceSettings(kind="folder", path="/x", schedule="nope")})
    with pytest.raises(ConfigError, match=r"sources\.b\.schedule"):
        build_scheduler(settings, db)


def test_jobs_run_without_the_scheduler(db: Database, tmp_path: Path, importer: Any) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "s.xml").write_bytes(camt053("J1"))
    os.utime(inbox / "s.xml", (time.time() - 60, time.time() - 60))
    apply(db, payment_with_items(db))
    settings = Settings(data_dir=str(tmp_path / "var"),
                        sources={"bank": SourceSettings(kind="folder", path=str(inbox))},
                        sinks={"erp": SinkSettings(kind="file", path=str(tmp_path / "out"))})
    pulled = jobs.pull_job(db, settings, "bank", importer=importer)
    posted = jobs.outbox_job(db, settings)
    assert pulled["imported"] == 1
    # Matching (another slice) may fail on its own; the pull itself must not.
    assert all(e.startswith("matching:") for e in pulled.get("errors", []))
    assert posted["erp"] == {"delivered": 1, "pending": 0, "given_up": 0}
    assert (tmp_path / "out" / "posting-0000000001.json").exists()


def test_kpi_job_keeps_one_snapshot_per_day(db: Database) -> None:
    import datetime as dt

    from sqlalchemy import select

    from reconciler.db.collections import KpiSnapshotRow

    day = dt.date(2026, 11, 20)
    first = jobs.kpi_job(db, Settings(), day)
    jobs.kpi_job(db, Settings(), day)
    with db.session() as session:
        rows = session.scalars(select(KpiSnapshotRow)).all()
    assert first["as_of"] == "2026-11-20"
    assert len(rows) == 1 and rows[0].as_of == day and "aged_balance" in rows[0].figures
