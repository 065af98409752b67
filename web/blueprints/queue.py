"""The review queue: suggestions best first; accept, reject, pick an alternative, edit."""

from __future__ import annotations

from flask import Blueprint, flash, render_template, request
from werkzeug.wrappers import Response

from reconciler.errors import InputError
from web import actions, context, forms
from web.blueprints.common import back
from web.queries.queue import QueueFilter, head_proposal_ids, load_proposal_entry, load_queue
from web.security import requires

bp = Blueprint("queue", __name__, url_prefix="/queue")

BULK_LIMIT = 500  # one click settles at most this many lines: a reviewer must see what moves


@bp.get("")
@requires("viewer")
def index() -> str:
    filters = QueueFilter.from_args(request.args.to_dict())
    with context.database().session() as s:
        page = load_queue(s, filters, request.args.get("after"))
    return render_template("queue.html", page=page, filters=filters,
                           filter_args=filters.as_args(), bulk_limit=BULK_LIMIT)


@bp.get("/<int:proposal_id>")
@requires("viewer")
def proposal(proposal_id: int) -> str:
    with context.database().session() as s:
        entry = load_proposal_entry(s, proposal_id)
    return render_template("proposal.html", entry=entry, kinds=forms.ADJUSTMENT_KINDS,
                           write_off_limit=context.settings().matching.write_off_limit)


@bp.post("/<int:proposal_id>/accept")
@requires("reviewer")
def accept(proposal_id: int) -> Response:
    application_id = actions.accept(context.current_user(), proposal_id)
    flash(f"suggestion {proposal_id} accepted: application {application_id}")
    return back("queue.index")


@bp.post("/<int:proposal_id>/reject")
@requires("reviewer")
def reject(proposal_id: int) -> Response:
    actions.reject(context.current_user(), proposal_id, forms.read_reason(request.form))
    flash(f"suggestion {proposal_id} rejected")
    return back("queue.index")


@bp.post("/<int:proposal_id>/apply")
@requires("reviewer")
def apply_edited(proposal_id: int) -> Response:
    allocations = forms.allocations_from_form(request.form)
    adjustments = forms.adjustments_from_form(request.form)
    application_id = actions.apply_edited(context.current_user(), proposal_id, allocations,
                                          adjustments, forms.read_reason(request.form))
    flash(f"edited suggestion {proposal_id} applied: application {application_id}")
    return back("queue.index")


@bp.post("/bulk-accept")
@requires("reviewer")
def bulk_accept() -> Response:
    filters = QueueFilter.from_args(request.form.to_dict())
    count = forms.read_int(request.form.get("count", "0"), "count")
    if not 0 < count <= BULK_LIMIT:
        raise InputError(f"accept between 1 and {BULK_LIMIT} suggestions at once", where="count")
    if filters == QueueFilter():
        raise InputError("bulk accept needs a filter (matcher, customer or confidence)",
                         where="filter")
    with context.database().session() as s:
        ids = head_proposal_ids(s, filters, count)
    result = actions.bulk_accept(context.current_user(), ids)
    flash(f"{len(result.accepted)} suggestions accepted, {len(result.skipped)} skipped")
    for proposal_id, why in result.skipped[:5]:
        flash(f"skipped {proposal_id}: {why}")
    return back("queue.index")
