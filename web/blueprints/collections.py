"""Collections: the dunning worklist, one action with its call outcome, open disputes, KPIs.

Each decision is one database transaction: a promise recorded for the action's items and the
action closed commit together or not at all, so a refused promise leaves the action due.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, flash, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from reconciler import disputes, dunning, promises
from reconciler.db.collections import DunningActionRow
from reconciler.errors import ConflictError, InputError, NotFoundError
from web import charts, context, forms
from web.blueprints.common import back
from web.queries import collections as queries
from web.security import requires

bp = Blueprint("collections", __name__)

OUTCOMES = ("promise", "dispute", "no_answer")
# Spreadsheet programs run a cell starting with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _read_date(text: str | None, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat((text or "").strip())
    except ValueError:
        raise InputError(f"not a date (YYYY-MM-DD): {text!r}", where=where) from None


def _note(form: Any) -> str:
    note = str(form.get("note") or "").strip()
    if len(note) > 2000:
        raise InputError("note too long (2000 characters at most)", where="note")
    return note


@bp.get("/worklist")
@requires("viewer")
def worklist() -> str:
    args = {k: v for k, v in request.args.to_dict().items()
            if k in queries.FILTER_KEYS and v.strip()}
    with context.database().session() as s:
        rows = queries.worklist(s, args, _today())
        filters = queries.worklist_filters(s)
    return render_template("worklist.html", rows=rows, args=args, filters=filters,
                           limit=queries.WORKLIST_LIMIT)


@bp.get("/worklist/<int:action_id>")
@requires("viewer")
def action(action_id: int) -> str:
    with context.database().session() as s:
        row = queries.action(s, action_id)
        name = queries.customer_name(s, row.customer_id)
    return render_template("action.html", a=row, customer_name=name,
                           is_call=row.channel in queries.CALL_CHANNELS, outcomes=OUTCOMES,
                           reasons=disputes.REASON_CODES, today=_today())


def _due_action(s: Any, action_id: int) -> DunningActionRow:
    row = s.get(DunningActionRow, action_id, with_for_update=True)
    if row is None:
        raise NotFoundError(f"dunning action {action_id} not found")
    if row.status != "due":
        raise ConflictError(f"dunning action {action_id} is already {row.status}")
    return row


@bp.post("/worklist/<int:action_id>/outcome")
@requires("reviewer")
def outcome(action_id: int) -> BaseResponse:
    user = context.current_user()
    form = request.form
    kind = (form.get("outcome") or "").strip()
    if kind not in OUTCOMES:
        raise InputError(f"choose an outcome ({', '.join(OUTCOMES)})", where="outcome")
    note = _note(form)
    today = _today()
    # Read the form completely before touching the database: a bad field changes nothing.
    amount: Decimal | None = None
    promised: dt.date | None = None
    if kind == "promise":
        amount = forms.read_amount((form.get("amount") or "").strip(), "amount")
        promised = _read_date(form.get("promised_date"), "promised_date")
    reason_code = (form.get("reason_code") or "").strip()
    with context.database().transaction() as s:
        row = _due_action(s, action_id)
        if row.channel not in queries.CALL_CHANNELS:
            raise InputError(f"a {row.channel} has no call outcome: mark it done",
                             where="outcome")
        item_ids = queries.action_item_ids(row)
        if amount is not None and promised is not None:
            promises.record_promise(s, row.customer_id, item_ids, amount, promised,
                                    actor=user.actor, today=today)
            message = f"promise of {amount} {row.currency} by {promised.isoformat()} recorded"
        elif kind == "dispute":
            for item_id in item_ids:
                disputes.open_dispute(s, item_id, reason_code, actor=user.actor, note=note,
                                      owner=row.owner)
            message = f"{len(item_ids)} item(s) put in dispute ({reason_code})"
        else:
            message = "no answer noted"
        dunning.record_call_outcome(s, action_id, kind, actor=user.actor, note=note)
    flash(f"action {action_id}: {message}")
    return back("collections.worklist")


@bp.post("/worklist/<int:action_id>/done")
@requires("reviewer")
def done(action_id: int) -> BaseResponse:
    user = context.current_user()
    note = _note(request.form)
    with context.database().transaction() as s:
        row = _due_action(s, action_id)
        if row.channel in queries.CALL_CHANNELS:
            raise InputError("a call is closed by recording its outcome", where="outcome")
        dunning.record_call_outcome(s, action_id, "other", actor=user.actor,
                                    note=note or f"{row.channel} sent")
    flash(f"action {action_id}: {row.channel} marked done")
    return back("collections.worklist")


@bp.get("/disputes")
@requires("viewer")
def disputes_index() -> str:
    with context.database().session() as s:
        rows = queries.open_disputes(s, _today())
    return render_template("disputes.html", rows=rows, resolutions=disputes.RESOLUTIONS,
                           today=_today())


@bp.post("/disputes/<int:dispute_id>/resolve")
@requires("reviewer")
def resolve(dispute_id: int) -> BaseResponse:
    user = context.current_user()
    resolution = (request.form.get("resolution") or "").strip()
    note = _note(request.form)
    with context.database().transaction() as s:
        disputes.resolve_dispute(s, dispute_id, resolution, actor=user.actor, note=note)
    flash(f"dispute #{dispute_id} resolved: {resolution}")
    return back("collections.disputes_index")


@bp.post("/disputes/<int:dispute_id>/note")
@requires("reviewer")
def note(dispute_id: int) -> BaseResponse:
    user = context.current_user()
    text = _note(request.form)
    with context.database().transaction() as s:
        disputes.add_note(s, dispute_id, text, actor=user.actor)
    flash(f"note added to dispute #{dispute_id}")
    return back("collections.disputes_index")


def _kpi_request() -> tuple[dt.date, str | None, dict[str, Any], dict[str, dict[str, Any]]]:
    as_of = queries.read_as_of(request.args.get("as_of"), _today())
    by = queries.read_dimension(request.args.get("by"))
    with context.database().session() as s:
        whole, groups = queries.kpi_figures(s, as_of, by)
    return as_of, by, whole, groups


@bp.get("/kpis")
@requires("viewer")
def kpis_page() -> str:
    as_of, by, whole, groups = _kpi_request()
    with context.database().session() as s:
        history = queries.dso_history(s)
    currency = context.settings().base_currency
    aged = charts.horizontal_bars(list(whole["aged_balance"].items()),
                                  title=f"Aged balance on {as_of.isoformat()} ({currency})",
                                  currency=currency)
    known = [(day, value) for day, value in history if value is not None]
    dso_chart = charts.stacked_columns(
        [day.strftime("%m-%d") for day, _ in known],
        [("DSO", [int(value.to_integral_value()) for _, value in known])],
        title="DSO by day (from the daily KPI snapshots)") if known else None
    figures = queries.flat_figures(whole)
    return render_template("kpis.html", as_of=as_of, by=by, whole=whole, figures=figures,
                           groups={k: queries.flat_figures(v) for k, v in groups.items()},
                           dimensions=queries.KPI_DIMENSIONS, aged_chart=aged,
                           dso_chart=dso_chart, currency=currency,
                           csv_url=url_for("collections.kpis_csv", as_of=as_of.isoformat(),
                                           by=by))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = f"{value:f}" if hasattr(value, "as_tuple") else str(value)
    return "'" + text if text.startswith(_FORMULA_START) and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@bp.get("/kpis.csv")
@requires("viewer")
def kpis_csv() -> Response:
    as_of, by, whole, groups = _kpi_request()
    flat = queries.flat_figures(whole)
    columns = list(flat)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["as_of", "dimension", "value", *columns])
    writer.writerow([as_of.isoformat(), "all", "", *(_cell(flat[c]) for c in columns)])
    for value, figures in groups.items():
        group = queries.flat_figures(figures)
        writer.writerow([as_of.isoformat(), by, _cell(value),
                         *(_cell(group.get(c)) for c in columns)])
    name = f"kpis-{as_of.isoformat()}{'-' + by if by else ''}.csv"
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})

