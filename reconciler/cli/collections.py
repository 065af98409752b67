"""Collections commands: the dunning run, emails, disputes, promises, KPIs, risk."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys
from typing import Any

from reconciler import disputes, kpis, mailer, promises, risk
from reconciler.cli.context import CommandGroups, Context
from reconciler.db.base import utcnow
from reconciler.db.collections import KpiSnapshotRow
from reconciler.db.ledger import OpenItemRow
from reconciler.dunning import run_dunning
from reconciler.errors import InputError, NotFoundError
from reconciler.money import money


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date (YYYY-MM-DD): {text!r}") from None


def register(groups: CommandGroups) -> None:
    run = groups.command("run", cmd_dunning_run, "the daily dunning run", group="dunning")
    run.add_argument("--date", type=_date, help="run date (default: today)")
    run.add_argument("--dry-run", action="store_true", help="show the actions, write nothing")
    groups.command("send", cmd_dunning_send, "send pending reminder emails over SMTP",
                   group="dunning")
    k = groups.command("kpis", cmd_kpis, "collections KPIs")
    k.add_argument("--as-of", type=_date, help="date (default: today)")
    k.add_argument("--format", choices=("json", "csv"), default="json")
    k.add_argument("--by", choices=tuple(kpis.DIMENSIONS), help="split by a dimension")
    k.add_argument("--period-days", type=int, default=90)
    k.add_argument("--snapshot", action="store_true", help="store the figures for charts")
    d = groups.command("open", cmd_dispute_open, "open a dispute on an item", group="dispute")
    d.add_argument("document_number")
    d.add_argument("--entity")
    d.add_argument("--reason", required=True, choices=disputes.REASON_CODES)
    d.add_argument("--note", default="")
    d.add_argument("--owner")
    r = groups.command("resolve", cmd_dispute_resolve, "resolve a dispute", group="dispute")
    r.add_argument("dispute_id", type=int)
    r.add_argument("--resolution", required=True, choices=disputes.RESOLUTIONS)
    r.add_argument("--note", default="")
    p = groups.command("add", cmd_promise_add, "record a promise to pay", group="promise")
    p.add_argument("customer_id")
    p.add_argument("--amount", required=True)
    p.add_argument("--date", type=_date, required=True)
    p.add_argument("--items", required=True, help="document numbers, comma-separated")
    groups.command("risk", cmd_risk, "customer risk scores, riskiest first")


def cmd_dunning_run(ctx: Context, args: argparse.Namespace) -> int:
    run_date = args.date or dt.date.today()
    report = run_dunning(ctx.db, ctx.settings, run_date, dry_run=args.dry_run)
    if report.already_ran:
        print(f"dunning run of {run_date} already done ({report.stored_actions} actions); "
              "nothing new")
        return 0
    verb = "would create" if args.dry_run else "created"
    print(f"dunning run {run_date}: {verb} {len(report.actions)} actions, "
          f"skipped {len(report.skipped)} items")
    for action in report.actions:
        docs = ", ".join(d.document_number for d in action.items)
        print(f"  {action.customer_id:<12} {action.stage.name:<14} {action.stage.channel:<13} "
              f"{action.total:>12} {action.currency}  risk {action.risk_score:>3}  {docs}")
    for reason, count in report.skip_counts().items():
        if count:
            print(f"  skipped ({reason}): {count}")
    return 0


def cmd_dunning_send(ctx: Context, args: argparse.Namespace) -> int:
    result = mailer.deliver_emails(ctx.db, ctx.settings.dunning)
    print(f"emails sent: {result.sent}, failed: {result.failed}")
    return 0 if not result.failed else 1


def cmd_kpis(ctx: Context, args: argparse.Namespace) -> int:
    as_of = args.as_of or dt.date.today()
    with ctx.db.session() as session:
        data = kpis.load(session)
    figures: dict[str, Any]
    if args.by:
        figures = {"as_of": as_of.isoformat(), "by": args.by,
                   "groups": kpis.compute_by(data, as_of, args.by, args.period_days)}
    else:
        figures = kpis.compute(data, as_of, args.period_days)
    if args.snapshot:
        with ctx.db.transaction() as session:
            session.add(KpiSnapshotRow(as_of=as_of, dimension=args.by or "all", value="",
                                       figures=_plain(figures), created_at=utcnow()))
    if args.format == "json":
        print(kpis.to_json(figures))
        return 0
    writer = csv.writer(sys.stdout, lineterminator="\n")
    rows = figures["groups"].items() if args.by else [("all", figures)]
    flat_keys: list[str] = []
    for _, group in rows:
        flat_keys = list(_flatten(group))
        break
    writer.writerow(["group", *flat_keys])
    for name, group in rows:
        flat = _flatten(group)
        writer.writerow([name, *(_cell(flat.get(k)) for k in flat_keys)])
    return 0


def _flatten(figures: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in figures.items():
        if isinstance(value, dict):
            flat.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            flat[key] = value
    return flat


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return f"{value:f}" if hasattr(value, "quantize") else str(value)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return _cell(value) if value is not None and hasattr(value, "quantize") else value


def _find_item(session: Any, document_number: str, entity: str | None) -> OpenItemRow:
    from sqlalchemy import select

    query = select(OpenItemRow).where(OpenItemRow.document_number == document_number)
    if entity:
        query = query.where(OpenItemRow.entity == entity)
    rows = session.scalars(query).all()
    if not rows:
        raise NotFoundError(f"no open item {document_number}")
    if len(rows) > 1:
        raise InputError(f"{document_number} exists in several entities: give --entity")
    item: OpenItemRow = rows[0]
    return item


def cmd_dispute_open(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.db.transaction() as session:
        item = _find_item(session, args.document_number, args.entity)
        dispute_id = disputes.open_dispute(session, item.id, args.reason, actor="cli",
                                           note=args.note, owner=args.owner)
    print(f"dispute #{dispute_id} opened on {args.document_number}")
    return 0


def cmd_dispute_resolve(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.db.transaction() as session:
        disputes.resolve_dispute(session, args.dispute_id, args.resolution, actor="cli",
                                 note=args.note)
    print(f"dispute #{args.dispute_id} resolved: {args.resolution}")
    return 0


def cmd_promise_add(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.db.transaction() as session:
        ids = [_find_item(session, doc.strip(), None).id
               for doc in args.items.split(",") if doc.strip()]
        promise_id = promises.record_promise(session, args.customer_id, ids, money(args.amount),
                                             args.date, actor="cli")
    print(f"promise #{promise_id} recorded: {args.amount} by {args.date}")
    return 0


def cmd_risk(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.db.session() as session:
        scores = risk.scores_by_customer(session, dt.date.today())
    for customer_id, score in sorted(scores.items(), key=lambda kv: (-kv[1].score, kv[0])):
        print(f"{customer_id:<12} {score.risk_class} {score.score:>3}  "
              f"{'; '.join(score.reasons)}")
    return 0
