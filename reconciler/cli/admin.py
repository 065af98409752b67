"""`recon init` and `recon audit verify`."""

from __future__ import annotations

import argparse

from reconciler import journal
from reconciler.cli.context import CommandGroups, Context
from reconciler.db.session import init_database


def register(groups: CommandGroups) -> None:
    groups.command("init", cmd_init, "create or upgrade the database (migrations)")
    groups.command("verify", cmd_audit_verify, "check the journal's hash chain", group="audit")


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
