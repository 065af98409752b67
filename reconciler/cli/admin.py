"""`recon init` and `recon audit verify`."""

from __future__ import annotations

import argparse
from pathlib import Path

from reconciler import backup, journal
from reconciler.cli.context import CommandGroups, Context
from reconciler.db.session import init_database


def register(groups: CommandGroups) -> None:
    groups.command("init", cmd_init, "create or upgrade the database (migrations)")
    groups.command("verify", cmd_audit_verify, "check the journal's hash chain", group="audit")
    b = groups.command("backup", cmd_backup, "write a consistent backup of the database")
    b.add_argument("file", type=Path)
    r = groups.command("restore", cmd_restore, "replace the database with a backup")
    r.add_argument("file", type=Path)
    r.add_argument("--yes", action="store_true", help="confirm: everything is replaced")


def cmd_init(ctx: Context, args: argparse.Namespace) -> int:
    revision = init_database(ctx.db)
    print(f"database ready at revision {revision}: {ctx.db.engine.url.render_as_string()}")
    return 0


def cmd_audit_verify(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.db.session() as session:
        report = journal.verify(session)
    if report.ok:
        print(f"journal verified: {report.rows} rows, hash chain intact")
        return 0
    print(f"journal BROKEN after checking {report.rows} rows:")
    for problem in report.problems:
        print(f"  {problem}")
    return 1


def cmd_backup(ctx: Context, args: argparse.Namespace) -> int:
    backup.backup(ctx.settings.database_url, args.file)
    print(f"backup written: {args.file} ({args.file.stat().st_size:,} bytes)")
    return 0


def cmd_restore(ctx: Context, args: argparse.Namespace) -> int:
    if not args.yes:
        print("recon: restore replaces the whole database; add --yes to confirm")
        return 2
    ctx.db.dispose()
    backup.restore(ctx.settings.database_url, args.file)
    with ctx.db.session() as session:
        report = journal.verify(session)
    print(f"restored from {args.file}; journal: {report.rows} rows, "
          f"{'intact' if report.ok else 'BROKEN'}")
    return 0 if report.ok else 1
