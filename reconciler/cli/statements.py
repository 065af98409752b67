"""`recon import statement FILE...`: import bank files, format sniffed; idempotent.

One line per file (name, status, format, counts, number of diagnostics) and a total line.
A file that cannot be read from disk gets one line and the others go on.
Exit code: 0 when every file was imported or was a duplicate; 1 when any file was
quarantined (unparseable) or could not be read.
"""

from __future__ import annotations

import argparse
from collections import deque
from collections.abc import Iterator
from pathlib import Path

from reconciler.cli.context import CommandGroups, Context
from reconciler.statements import (
    DUPLICATE,
    IMPORTED,
    MB,
    QUARANTINED,
    FileImportResult,
    import_files,
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
    # Files are read as the import asks for them (a few ahead of the one being stored, whose
    # successors a worker parses meanwhile); a file that cannot be read waits here so that
    # its line comes out in its place among the others.
    refused: deque[tuple[int, str]] = deque()
    readable: deque[tuple[int, str]] = deque()

    def read_files() -> Iterator[tuple[str, bytes]]:
        for position, name in enumerate(args.files):
            try:
                size = Path(name).stat().st_size
                if size > limit:
                    refused.append((position, f"{name}: refused: {size / MB:,.1f} MB is over "
                                    f"the limit of {ctx.settings.max_file_mb} MB (setting "
                                    "max_file_mb)"))
                    continue
                data = Path(name).read_bytes()
            except OSError as exc:
                refused.append((position, f"{name}: unreadable: {exc.strerror or exc}"))
                continue
            readable.append((position, name))
            yield name, data

    def print_refused(before: int) -> None:
        while refused and refused[0][0] < before:
            print(refused.popleft()[1])
            tally["unreadable"] += 1

    for result in import_files(ctx.db, read_files(), source=args.source, actor="system:cli",
                               quarantine_dir=quarantine, max_bytes=limit):
        position, name = readable.popleft()
        print_refused(position)
        tally[result.status] += 1
        new += result.transactions_new
        linked += result.transactions_linked
        print(_line(name, result))
        if args.verbose:
            for diagnostic in result.diagnostics:
                place = f" ({diagnostic.where})" if diagnostic.where else ""
                print(f"  {diagnostic.severity.value}: {diagnostic.message}{place}")
    print_refused(len(args.files))
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


