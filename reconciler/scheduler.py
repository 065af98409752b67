"""The one place where jobs meet their triggers (APScheduler 3.11, in-process).

    scheduler = start_scheduler(settings, db)   # from `recon serve`
    ...
    scheduler.shutdown()

Every job runs through `reconciler.jobs.run_exclusive`, so several `recon serve` processes
against one database run each job once at a time: whoever takes the lease runs it, the
others skip that firing. Cron expressions are read in the server's local time zone, which is
how banks publish their delivery windows.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from reconciler import jobs
from reconciler.db.session import Database
from reconciler.errors import ConfigError
from reconciler.settings import Settings

log = logging.getLogger(__name__)


def cron(expression: str, where: str) -> CronTrigger:
    try:
        return CronTrigger.from_crontab(expression)
    except ValueError as exc:
        raise ConfigError(f"{where}: not a five-field cron expression {expression!r}: {exc}"
                          ) from None


def add_exclusive_job(scheduler: BackgroundScheduler, db: Database, name: str,
                      work: Callable[[], dict[str, Any]], trigger: Any, *, holder: str,
                      ttl: float = jobs.DEFAULT_TTL) -> None:
    """Schedule `work` under the lease `name`; one firing at a time, late firings merged."""
    scheduler.add_job(
        functools.partial(jobs.run_exclusive, db, name, work, holder=holder, ttl=ttl),
        trigger, id=name, name=name, max_instances=1, coalesce=True, misfire_grace_time=300,
        replace_existing=True)


def build_scheduler(settings: Settings, db: Database, *, holder: str | None = None
                    ) -> BackgroundScheduler:
    """A scheduler with every job the settings call for, not yet started."""
    holder = holder or jobs.process_holder()
    scheduler = BackgroundScheduler()
    for name, source in sorted(settings.sources.items()):
        if source.schedule:
            add_exclusive_job(scheduler, db, f"pull:{name}",
                              functools.partial(jobs.pull_job, db, settings, name),
                              cron(source.schedule, f"sources.{name}.schedule"), holder=holder)
    if settings.sinks:
        add_exclusive_job(scheduler, db, "outbox",
                          functools.partial(jobs.outbox_job, db, settings),
                          IntervalTrigger(seconds=settings.scheduler.outbox_seconds),
                          holder=holder)
    if jobs.optional("reconciler.dunning", "run_dunning") is not None:
        add_exclusive_job(scheduler, db, "dunning",
                          functools.partial(jobs.dunning_job, db, settings),
                          cron(settings.dunning.schedule, "dunning.schedule"), holder=holder)
    if jobs.optional("reconciler.kpis", "compute") is not None:
        add_exclusive_job(scheduler, db, "kpi_snapshot",
                          functools.partial(jobs.kpi_job, db, settings),
                          cron(settings.scheduler.kpi_schedule, "scheduler.kpi_schedule"),
                          holder=holder)
    return scheduler


def start_scheduler(settings: Settings, db: Database) -> BackgroundScheduler | None:
    """Start the background jobs; None when `[scheduler] enabled = false`."""
    if not settings.scheduler.enabled:
        log.info("scheduler disabled in the settings")
        return None
    scheduler = build_scheduler(settings, db)
    scheduler.start()
    log.info("scheduler started: %s", ", ".join(job.id for job in scheduler.get_jobs()))
    return scheduler
