"""The exception queue: lines nobody could match. Match by hand, put on account, mark as not
receivables, or open a dispute."""

from __future__ import annotations

from flask import Blueprint, flash, render_template, request
from werkzeug.wrappers import Response

from reconciler.errors import InputError
from web import actions, context, forms
from web.blueprints.common import back
from web.queries.records import (
    candidate_items,
    search_exceptions,
    search_open_items,
    transaction_detail,
)
from web.security import requires

bp = Blueprint("exceptions", __name__, url_prefix="/exceptions")

SEARCH_KEYS = ("customer", "amount", "reference", "due_from", "due_to")


@bp.get("")
@requires("viewer")
def index() -> str:
    args = request.args.to_dict()
    after = forms.read_int(args["after"], "after") if args.get("after") else None
    with context.database().session() as s:
        rows = search_exceptions(s, args, after)
    return render_template("exceptions.html", rows=rows, args=args,
                           next_after=rows[-1].id if len(rows) == 50 else None)


@bp.get("/<int:tx_id>")
@requires("viewer")
def match(tx_id: int) -> str:
    args = {k: v for k, v in request.args.to_dict().items() if k in SEARCH_KEYS and v.strip()}
    with context.database().session() as s:
        detail = transaction_detail(s, tx_id)
        items = search_open_items(s, args) if args else candidate_items(s, detail.row)
    return render_template("match.html", tx=detail.row, detail=detail, items=items, args=args,
                           kinds=forms.ADJUSTMENT_KINDS,
                           disputes=actions.disputes_available(),
                           dispute_reasons=actions.dispute_reasons(),
                           write_off_limit=context.settings().matching.write_off_limit)


@bp.post("/<int:tx_id>/match")
@requires("reviewer")
def apply_match(tx_id: int) -> Response:
    allocations = forms.allocations_from_form(request.form)
    adjustments = forms.adjustments_from_form(request.form)
    if not allocations and not adjustments:
        raise InputError("enter an amount for at least one item", where="amount")
    application_id = actions.apply_manual(context.current_user(), tx_id, allocations,
                                          adjustments, forms.read_reason(request.form))
    flash(f"payment {tx_id} applied by hand: application {application_id}")
    return back("exceptions.index")


@bp.post("/<int:tx_id>/on-account")
@requires("reviewer")
def on_account(tx_id: int) -> Response:
    customer_id = request.form.get("customer_id", "").strip()
    if not customer_id:
        raise InputError("name the customer whose account keeps the cash", where="customer_id")
    application_id = actions.put_on_account(context.current_user(), tx_id, customer_id,
                                            forms.read_reason(request.form))
    flash(f"payment {tx_id} kept on account of {customer_id}: application {application_id}")
    return back("exceptions.index")


@bp.post("/<int:tx_id>/not-receivable")
@requires("reviewer")
def not_receivable(tx_id: int) -> Response:
    actions.mark_not_receivable(context.current_user(), tx_id,
                                forms.read_reason(request.form, required=True))
    flash(f"payment {tx_id} marked as not receivables")
    return back("exceptions.index")


@bp.post("/<int:tx_id>/dispute")
@requires("reviewer")
def dispute(tx_id: int) -> Response:
    item_ids = [forms.read_int(v, "dispute_item") for v in request.form.getlist("dispute_item")]
    if not item_ids:
        raise InputError("tick the items the customer disputes", where="dispute_item")
    reason_code = request.form.get("reason_code", "").strip()
    ids = actions.open_dispute(context.current_user(), item_ids, reason_code,
                               request.form.get("note", "").strip(), transaction_id=tx_id)
    flash(f"dispute opened: {', '.join(f'#{i}' for i in ids)}")
    return back("exceptions.match", tx_id=tx_id)
