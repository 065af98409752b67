"""Detail pages: bank transactions, customers, open items, applications, statements, audit."""

from __future__ import annotations

import datetime as dt
import json

from flask import Blueprint, flash, render_template, request
from werkzeug.wrappers import Response

from web import actions, context, forms
from web.blueprints.common import back
from web.queries import records
from web.queries.activity import AuditFilter, audit_log
from web.security import requires

bp = Blueprint("records", __name__)


@bp.get("/transactions/<int:tx_id>")
@requires("viewer")
def transaction(tx_id: int) -> str:
    with context.database().session() as s:
        detail = records.transaction_detail(s, tx_id)
    return render_template("transaction.html", d=detail, tx=detail.row,
                           fields=records.parsed_fields(detail.row))


@bp.get("/customers")
@requires("viewer")
def customers() -> str:
    text = request.args.get("q", "")
    with context.database().session() as s:
        rows = records.search_customers(s, text, limit=100)
    return render_template("customers.html", rows=rows, q=text)


@bp.get("/customers/<customer_id>")
@requires("viewer")
def customer(customer_id: str) -> str:
    today = dt.datetime.now(dt.UTC).date()
    with context.database().session() as s:
        detail = records.customer_detail(s, customer_id, today)
    return render_template("customer.html", d=detail, c=detail.row, as_of=today,
                           base_currency=context.settings().base_currency)


@bp.post("/evidence/<int:evidence_id>/remove")
@requires("reviewer")
def remove_evidence(evidence_id: int) -> Response:
    actions.remove_evidence(context.current_user(), evidence_id, forms.read_reason(request.form))
    flash(f"learned evidence {evidence_id} removed")
    return back("dashboard.index")


@bp.get("/items/<int:item_id>")
@requires("viewer")
def item(item_id: int) -> str:
    with context.database().session() as s:
        detail = records.item_detail(s, item_id)
    return render_template("item.html", d=detail, item=detail.row)


@bp.get("/applications/<int:application_id>")
@requires("viewer")
def application(application_id: int) -> str:
    with context.database().session() as s:
        row, items, history = records.application_detail(s, application_id)
        lines = list(row.lines)
    return render_template("application.html", a=row, lines=lines, items=items,
                           journal_rows=history)


@bp.post("/applications/<int:application_id>/reverse")
@requires("approver")
def reverse(application_id: int) -> Response:
    reversal = actions.reverse(context.current_user(), application_id,
                               forms.read_reason(request.form, required=True))
    flash(f"application {application_id} reversed by {reversal}")
    return back("records.application", application_id=application_id)


@bp.get("/statements")
@requires("viewer")
def statements() -> str:
    with context.database().session() as s:
        rows = records.list_statements(s)
        files = records.list_files(s)
    return render_template("statements.html", rows=rows, files=files)


@bp.post("/statements/upload")
@requires("reviewer")
def upload_statement() -> Response:
    result = actions.import_statement(context.current_user(), request.files.get("file"))
    flash(f"{result.filename}: {result.status}"
          f"{f' ({result.format})' if result.format else ''}, "
          f"{result.transactions_new} new lines{f': {result.message}' if result.message else ''}")
    return back("records.statements")


@bp.get("/audit")
@requires("viewer")
def audit() -> str:
    filters = AuditFilter.from_args(request.args.to_dict())
    before = forms.read_int(request.args["before"], "before") if request.args.get("before") \
        else None
    with context.database().session() as s:
        rows = audit_log(s, filters, before)
    return render_template("audit.html", rows=rows, f=filters, args=request.args.to_dict(),
                           json=json, next_before=rows[-1].seq if len(rows) == 100 else None)
