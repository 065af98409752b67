"""`recon match [--dry-run]` and `recon export matches`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO, cast

from sqlalchemy.orm import Session

from reconciler.atomic import replaced_atomically
from reconciler.cli.context import CommandGroups, Context
from reconciler.domain import Decision
from reconciler.engine import MatchSummary, run_matching
from reconciler.export import FORMATS, export_matches

MAX_DIAGNOSTICS_SHOWN = 20


def register(groups: CommandGroups) -> None:
    parser = groups.command("match", cmd_match,
                            "run the matcher chain over unreconciled transactions")
    parser.add_argument("--dry-run", action="store_true",
                        help="show what would be applied and suggested; write nothing")
    parser = groups.command("matches", cmd_export_matches,
                            "the match export: one row per bank transaction and item",
                            group="export")
    parser.add_argument("--format", choices=FORMATS, default="csv")
    parser.add_argument("--output", metavar="FILE", help="write here instead of stdout")


def cmd_match(ctx: Context, args: argparse.Namespace) -> int:
    summary = run_matching(ctx.db, ctx.settings, dry_run=args.dry_run)
    if args.dry_run:
        print_outcomes(summary)
    print(format_summary(summary))
    shown = summary.diagnostics[:MAX_DIAGNOSTICS_SHOWN]
    for diagnostic in shown:
        where = f"{diagnostic.where}: " if diagnostic.where else ""
        print(f"{diagnostic.severity.value}: {where}{diagnostic.message}", file=sys.stderr)
    if len(summary.diagnostics) > len(shown):
        print(f"... and {len(summary.diagnostics) - len(shown)} more diagnostics",
              file=sys.stderr)
    return 0


def format_summary(summary: MatchSummary) -> str:
    verb = "would match" if summary.dry_run else "matched"
    text = (f"{verb} {summary.lines:,} lines in {summary.seconds:.1f} s: "
            f"{summary.auto:,} auto ({summary.auto_rate:.1%}), "
            f"{summary.suggested:,} suggested ({summary.suggested_rate:.1%}), "
            f"{summary.unmatched:,} unmatched ({summary.unmatched_rate:.1%})")
    if summary.skipped:
        text += f"; {summary.skipped:,} skipped (taken by another worker)"
    if summary.dry_run:
        text += "\ndry run: nothing was written"
    return text


def print_outcomes(summary: MatchSummary) -> None:
    labels = {Decision.AUTO: "auto", Decision.SUGGEST: "suggest",
              Decision.UNMATCHED: "unmatched"}
    print(f"{'bank reference':<24} {'amount':>14} {'decision':<9} {'confidence':>10}  items")
    for line in summary.outcomes:
        confidence = f"{line.confidence:.2f}" if line.confidence is not None else "-"
        items = ", ".join(line.items) or "-"
        print(f"{line.bank_reference[:24]:<24} {line.amount:>14,.2f} "
              f"{labels[line.decision]:<9} {confidence:>10}  {items}")


def cmd_export_matches(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.db.session() as session:
        if args.output is None:
            count = export_matches(session, sys.stdout, format=args.format)
        else:
            count = _export_to_file(session, Path(args.output), args.format)
    if args.output is not None:
        print(f"exported {count:,} rows to {args.output}", file=sys.stderr)
    return 0


def _export_to_file(session: Session, target: Path, format: str) -> int:
    with replaced_atomically(target, "w", encoding="utf-8", newline="") as out:
        return export_matches(session, cast(TextIO, out), format=format)
