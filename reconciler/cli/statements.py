"""`recon import statement FILE...`: import bank files, format sniffed; idempotent.

One line per file (name, status, format, counts, number of diagnostics) and a total line.
A file that cannot be read from disk gets one line and the others go on.
Exit code: 0 when every file was imported or was a duplicate; 1 when any file was
quarantined (unparseable) or could not be read.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from reconciler.cli.context import CommandGroups, Context
from reconciler.statements import (
    DUPLICATE,
    IMPORTED,
    MB,
    QUARANTINED,
    FileImportResult,
    import_file,
)


def register(groups: CommandGroups) -> None:
    parser = groups.command("statement", cmd_import_statement,
                            "import bank files (MT940, CAMT), format sniffed; idempotent",
                            group="import")
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.add_argument("--source", help="name of the bank source, stored with each file")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="list every diagnostic under its file")


def cmd_import_statement(ctx: Context, args: argparse.Namespace) -> int:
    quarantine = Path(ctx.settings.data_dir) / "quarantine"
    tally = {IMPORTED: 0, DUPLICATE: 0, QUARANTINED: 0, "unreadable": 0}
    new = linked = 0
    limit = ctx.settings.max_file_mb * MB
    for name in args.files:
        try:
            size = Path(name).stat().st_size
            if size > limit:
                print(f"{name}: refused: {size / MB:,.1f} MB is over the limit of "
                      f"{ctx.settings.max_file_mb} MB (setting max_file_mb)")
                tally["unreadable"] += 1
                continue
            data = Path(name).read_bytes()
        except OSError as exc:
            print(f"{name}: unreadable: {exc.strerror or exc}")
            tally["unreadable"] += 1
            continue
        result = import_file(ctx.db, data, name, source=args.source, actor="system:cli",
                             quarantine_dir=quarantine, max_bytes=limit)
        tally[result.status] += 1
        new += result.transactions_new
        linked += result.transactions_linked
        print(_line(name, result))
        if args.verbose:
            for diagnostic in result.diagnostics:
                place = f" ({diagnostic.where})" if diagnostic.where else ""
                print(f"  {diagnostic.severity.value}: {diagnostic.message}{place}")
    print(f"total: {len(args.files)} file(s): {tally[IMPORTED]} imported, "
          f"{tally[DUPLICATE]} duplicate, {tally[QUARANTINED]} quarantined, "
          f"{tally['unreadable']} unreadable; {new} transaction(s) new, {linked} linked")
    return 1 if tally[QUARANTINED] or tally["unreadable"] else 0


def _line(name: str, result: FileImportResult) -> str:
    if result.status == QUARANTINED:
        return f"{name}: quarantined: {result.message}"
    if result.status == DUPLICATE:
        return f"{name}: duplicate: {result.message}"
    return (f"{name}: imported {result.format}: {result.statements_new} statement(s) new, "
            f"{result.statements_duplicate} duplicate, {result.transactions_new} "
            f"transaction(s) new, {result.transactions_linked} linked, "
            f"{len(result.diagnostics)} diagnostic(s)")


