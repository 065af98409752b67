"""`recon import customers FILE` and `recon import open-items FILE [--full]`.

Prints one summary line (inserted, updated, unchanged, closed, warnings) and the warnings on
stderr. A rejected file lists its problems on stderr (the first 50 and how many more),
imports nothing and exits 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from reconciler.cli.context import CommandGroups, Context
from reconciler.errors import ImportRejectedError
from reconciler.masterdata import ImportSummary, import_customers, import_open_items
from reconciler.progress import Progress

SHOWN = 50


def register(groups: CommandGroups) -> None:
    customers = groups.command("customers", cmd_customers,
                               "upsert the customer master from CSV", group="import")
    customers.add_argument("file", help="customers.csv (UTF-8, header row)")
    items = groups.command("open-items", cmd_open_items,
                           "upsert open items from CSV (key: entity + document_number)",
                           group="import")
    items.add_argument("file", help="open_items.csv (UTF-8, header row)")
    items.add_argument("--full", action="store_true",
                       help="the file lists every open item of its entities: close the "
                            "stored ones it does not list")


def cmd_customers(ctx: Context, args: argparse.Namespace) -> int:
    return _run(args.file, lambda progress: import_customers(ctx.db, args.file,
                                                             progress=progress))


def cmd_open_items(ctx: Context, args: argparse.Namespace) -> int:
    return _run(args.file, lambda progress: import_open_items(
        ctx.db, args.file, full=args.full, default_entity=ctx.settings.entity,
        progress=progress))


def _run(file: str, action: Callable[[Progress], ImportSummary]) -> int:
    try:
        summary = action(Progress(f"importing {file}"))
    except ImportRejectedError as exc:
        print(f"recon: {file}: rejected, nothing imported: {exc.message}", file=sys.stderr)
        _print_list(exc.problems)
        return 2
    print(summary.line())
    _print_list(summary.warnings, prefix="warning: ")
    return 0


def _print_list(lines: Sequence[str], prefix: str = "") -> None:
    for line in lines[:SHOWN]:
        print(f"  {prefix}{line}", file=sys.stderr)
    if len(lines) > SHOWN:
        print(f"  ... and {len(lines) - SHOWN} more", file=sys.stderr)
