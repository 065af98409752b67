"""`recon pull`, `recon export postings`, `recon jobs`, `recon ebics ini|hia|hpb`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlalchemy import select

from connectors.sinks.base import encode
from reconciler import jobs
from reconciler.atomic import replaced_atomically
from reconciler.cli.context import CommandGroups, Context
from reconciler.db.jobs import JobLeaseRow
from reconciler.db.outbox import PostingRow
from reconciler.db.session import Database
from reconciler.errors import ConfigError
from reconciler.outbox import deliver, prepare, retry_failed
from reconciler.pulling import PullReport, pull_all
from reconciler.settings import Settings


def register(groups: CommandGroups) -> None:
    pull = groups.command("pull", cmd_pull,
                          "pull new files from the configured bank sources now, import them")
    pull.add_argument("sources", nargs="*", metavar="SOURCE", help="default: every source")

    export = groups.command("postings", cmd_export_postings,
                            "deliver posted cash entries to the ERP sinks now, or write them "
                            "to a file", group="export")
    export.add_argument("--sink", action="append", metavar="NAME",
                        help="only this sink (repeatable); default: every sink")
    export.add_argument("--format", choices=("csv", "json"), default="json",
                        help="with --output: the file's format")
    export.add_argument("--output", metavar="FILE",
                        help="write the postings to FILE ('-' for stdout) instead of delivering")
    export.add_argument("--since", type=int, default=0, metavar="SEQ",
                        help="with --output: only postings after this sequence number")
    export.add_argument("--retry-failed", action="store_true",
                        help="queue again the deliveries that had given up")

    history = groups.command("jobs", cmd_jobs, "scheduled jobs: recent runs and last errors")
    history.add_argument("--job", metavar="NAME", help="only this job (e.g. pull:main_bank)")
    history.add_argument("--limit", type=int, default=20)

    for order, text in (("ini", "send the signature key (INI)"),
                        ("hia", "send the authentication and encryption keys (HIA)"),
                        ("hpb", "download and store the bank's public keys (HPB)"),
                        ("letter", "print the initialisation letter with key hashes")):
        command = groups.command(order, cmd_ebics, f"EBICS: {text}", group="ebics")
        command.add_argument("source", metavar="SOURCE")
        command.set_defaults(ebics_order=order)


def cmd_pull(ctx: Context, args: argparse.Namespace) -> int:
    settings = ctx.settings
    names = args.sources or sorted(settings.sources)
    if not names:
        raise ConfigError("no bank sources configured ([sources.NAME] in the settings)")
    for name in names:
        if name not in settings.sources:
            raise ConfigError(f"unknown source {name!r} (known: "
                              f"{', '.join(sorted(settings.sources))})")
    holder = jobs.process_holder()
    failed = False
    for name in names:
        reports: list[PullReport] = []

        def work(name: str = name, reports: list[PullReport] = reports) -> dict[str, object]:
            reports.extend(pull_all(ctx.db, settings, [name]))
            report = reports[0]
            errors = [report.error] if report.error else []
            if report.imported:
                _, matching_error = jobs.match_after_import(ctx.db, settings)
                if matching_error:
                    print(f"{name}: imported, but {matching_error}")
                    errors.append(matching_error)
            return {"source": name, "imported": report.imported,
                    **({"errors": errors} if errors else {})}

        outcome = jobs.run_exclusive(ctx.db, f"pull:{name}", work, holder=holder)
        if not outcome.ran:
            print(f"{name}: skipped, another process is pulling this source right now")
            continue
        if not reports:
            print(f"{name}: ERROR {outcome.error}")
            failed = True
            continue
        failed |= _print_report(reports[0])
    return 1 if failed else 0


def _print_report(report: PullReport) -> bool:
    for file in report.files:
        detail = f"  ({file.detail})" if file.detail else ""
        print(f"{report.source}: {file.name}: {file.outcome}{detail}")
    if report.error:
        print(f"{report.source}: ERROR {report.error}")
    elif not report.files:
        print(f"{report.source}: nothing new")
    return bool(report.error) or any(f.outcome == "failed" for f in report.files)


def cmd_export_postings(ctx: Context, args: argparse.Namespace) -> int:
    settings = ctx.settings
    if args.output:
        count = write_postings(ctx.db, args.output, args.format, args.since)
        if args.output != "-":
            print(f"{count} postings written to {args.output}")
        return 0
    if not settings.sinks:
        raise ConfigError("no sinks configured ([sinks.NAME] in the settings); use --output")
    if args.retry_failed:
        for name in args.sink or sorted(settings.sinks):
            print(f"{name}: {retry_failed(ctx.db, name)} failed deliveries queued again")
    reports = deliver(ctx.db, settings, sinks=args.sink, now_only=True)
    for report in reports:
        line = (f"{report.sink}: {report.delivered} delivered, {report.pending} pending, "
                f"{report.given_up} given up")
        print(line + (f"; last error: {report.last_error}" if report.last_error else ""))
    return 1 if any(r.last_error for r in reports) else 0


def write_postings(db: Database, output: str, fmt: str, since: int) -> int:
    prepare(db, Settings())  # derive postings for new applications; no sink involved
    with db.session() as session:
        payloads = [dict(p) for p in session.scalars(
            select(PostingRow.payload).where(PostingRow.sequence > since)
            .order_by(PostingRow.sequence))]
    data = encode(payloads, fmt)
    if output == "-":
        sys.stdout.write(data.decode("utf-8"))
    else:
        with replaced_atomically(Path(output), "wb") as out:
            out.write(data)
    return len(payloads)


def cmd_jobs(ctx: Context, args: argparse.Namespace) -> int:
    runs = jobs.recent_runs(ctx.db, args.limit, args.job)
    if not runs:
        print("no job has run yet")
        return 0
    print(f"{'started (UTC)':19}  {'job':24} {'status':7} {'seconds':>8}  summary / error")
    for run in runs:
        seconds = (f"{(run.finished_at - run.started_at).total_seconds():8.1f}"
                   if run.finished_at else "   -    ")
        text = run.error or ", ".join(f"{k}={v}" for k, v in sorted(run.summary.items())
                                      if k != "errors")
        print(f"{run.started_at:%Y-%m-%d %H:%M:%S}  {run.job:24} {run.status:7} {seconds}  "
              f"{text}"[:200])
    last_errors: dict[str, str] = {}
    for run in jobs.recent_runs(ctx.db, 500, args.job):
        if run.status == "error" and run.job not in last_errors:
            last_errors[run.job] = f"{run.started_at:%Y-%m-%d %H:%M:%S}: {run.error}"
    if last_errors:
        print("\nlast errors:")
        for job, error in sorted(last_errors.items()):
            print(f"  {job}: {error}")
    with ctx.db.session() as session:
        held = [lease for lease in session.scalars(select(JobLeaseRow).order_by(JobLeaseRow.job))
                if lease.holder]
    if held:
        print("\nrunning now:")
        for lease in held:
            print(f"  {lease.job}: {lease.holder} (lease until {lease.expires_at:%H:%M:%S})")
    return 0


def cmd_ebics(ctx: Context, args: argparse.Namespace) -> int:
    from connectors.sources.ebics.admin import run_admin_order

    source = ctx.settings.sources.get(args.source)
    if source is None or source.kind != "ebics":
        raise ConfigError(f"{args.source!r} is not an EBICS source in the settings")
    print(run_admin_order(args.source, source, args.ebics_order))
    return 0
