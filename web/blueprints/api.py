"""The JSON API beside the pages (`/api/v1`), described by `web/openapi.json`.

Machine clients authenticate with `Authorization: Bearer <token>` (`recon user token NAME`);
a browser session works too, with the `X-CSRF-Token` header on every state change.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, jsonify, request

from reconciler.errors import InputError
from web import actions, context, forms
from web.openapi import build_document
from web.queries import records
from web.queries.activity import AuditFilter, audit_log, dashboard
from web.queries.queue import QueueFilter, head_proposal_ids, load_proposal_entry, load_queue
from web.security import csrf_token, requires

bp = Blueprint("api", __name__, url_prefix="/api/v1")
PUSH_LIMIT = 50_000  # records per push; larger loads go through `recon import`


def plain(value: Any) -> Any:
    """JSON-ready values: amounts as exact strings, dates in ISO 8601."""
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        result = {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        for name in ("allocated", "items_open", "difference"):
            if hasattr(type(value), name):
                result[name] = plain(getattr(value, name))
        return result
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def columns(row: Any, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: plain(getattr(row, name)) for name in names}


def body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if data is None:
        if request.content_length:
            raise InputError("request body is not valid JSON", where="body")
        return {}
    if not isinstance(data, dict):
        raise InputError("request body must be a JSON object", where="body")
    return data


TX_FIELDS = ("id", "amount", "currency", "booking_date", "value_date", "bank_reference",
             "end_to_end_id", "counterparty_name", "counterparty_iban", "creditor_reference",
             "remittance_text", "state")
ITEM_FIELDS = ("id", "entity", "document_number", "document_type", "customer_id", "currency",
               "amount", "open_amount", "issue_date", "due_date", "payment_reference", "status")
APPLICATION_FIELDS = ("id", "transaction_id", "customer_id", "status", "matcher", "confidence",
                      "explanation", "actor", "proposed_by", "applied_at", "reverses_id",
                      "reversed_by_id")


@bp.get("/openapi.json")
@requires("viewer")
def openapi() -> Response:
    return jsonify(build_document())


@bp.get("/me")
@requires("viewer")
def me() -> Response:
    user = context.current_user()
    return jsonify({"name": user.name, "role": user.role, "csrf_token": csrf_token()})


@bp.get("/dashboard")
@requires("viewer")
def dashboard_figures() -> Response:
    settings = context.settings()
    with context.database().session() as s:
        figures = dashboard(s, dt.datetime.now(dt.UTC).date(), settings.base_currency)
    return jsonify(plain(figures))


@bp.get("/queue")
@requires("viewer")
def queue() -> Response:
    filters = QueueFilter.from_args(request.args.to_dict())
    with context.database().session() as s:
        page = load_queue(s, filters, request.args.get("after"))
    return jsonify({"entries": plain(list(page.entries)), "next": page.next_cursor,
                    "total_pending": page.total_pending,
                    "total_is_lower_bound": page.total_is_capped})


@bp.get("/proposals/<int:proposal_id>")
@requires("viewer")
def proposal(proposal_id: int) -> Response:
    with context.database().session() as s:
        entry = load_proposal_entry(s, proposal_id)
    return jsonify(plain(entry))


@bp.post("/proposals/<int:proposal_id>/accept")
@requires("reviewer")
def accept(proposal_id: int) -> Response:
    application_id = actions.accept(context.current_user(), proposal_id)
    return jsonify({"application_id": application_id})


@bp.post("/proposals/<int:proposal_id>/reject")
@requires("reviewer")
def reject(proposal_id: int) -> Response:
    actions.reject(context.current_user(), proposal_id, forms.read_reason(body()))
    return jsonify({"rejected": proposal_id})


@bp.post("/proposals/<int:proposal_id>/apply")
@requires("reviewer")
def apply_edited(proposal_id: int) -> Response:
    data = body()
    application_id = actions.apply_edited(
        context.current_user(), proposal_id, forms.allocations_from_json(data),
        forms.adjustments_from_json(data), forms.read_reason(data))
    return jsonify({"application_id": application_id})


@bp.post("/queue/bulk-accept")
@requires("reviewer")
def bulk_accept() -> Response:
    data = body()
    filters = QueueFilter.from_args({k: str(v) for k, v in data.items() if v is not None})
    count = forms.read_int(data.get("count", 0), "count")
    if not 0 < count <= 500:
        raise InputError("accept between 1 and 500 suggestions at once", where="count")
    if filters == QueueFilter():
        raise InputError("bulk accept needs a filter (matcher, customer or confidence)",
                         where="filter")
    with context.database().session() as s:
        ids = head_proposal_ids(s, filters, count)
    result = actions.bulk_accept(context.current_user(), ids)
    return jsonify({"accepted": list(result.accepted),
                    "skipped": [{"proposal_id": i, "reason": r} for i, r in result.skipped]})


@bp.get("/exceptions")
@requires("viewer")
def exceptions() -> Response:
    args = request.args.to_dict()
    after = forms.read_int(args["after"], "after") if args.get("after") else None
    with context.database().session() as s:
        rows = records.search_exceptions(s, args, after)
    return jsonify({"transactions": [columns(r, TX_FIELDS) for r in rows],
                    "next": rows[-1].id if len(rows) == records.SEARCH_LIMIT else None})


@bp.get("/transactions/<int:tx_id>")
@requires("viewer")
def transaction(tx_id: int) -> Response:
    with context.database().session() as s:
        detail = records.transaction_detail(s, tx_id)
        result = {
            "transaction": dict(records.parsed_fields(detail.row)),
            "proposals": plain(list(detail.proposals)),
            "applications": [columns(a, APPLICATION_FIELDS) for a in detail.applications],
            "history": [{"seq": h.seq, "at": h.at, "actor": h.actor, "action": h.action,
                         "reason": h.reason} for h in detail.history],
        }
    return jsonify(plain(result))


@bp.post("/transactions/<int:tx_id>/match")
@requires("reviewer")
def match(tx_id: int) -> Response:
    data = body()
    application_id = actions.apply_manual(
        context.current_user(), tx_id, forms.allocations_from_json(data),
        forms.adjustments_from_json(data), forms.read_reason(data),
        customer_id=str(data["customer_id"]) if data.get("customer_id") else None)
    return jsonify({"application_id": application_id})


@bp.post("/transactions/<int:tx_id>/on-account")
@requires("reviewer")
def on_account(tx_id: int) -> Response:
    data = body()
    customer_id = str(data.get("customer_id") or "").strip()
    if not customer_id:
        raise InputError("customer_id is required", where="customer_id")
    application_id = actions.put_on_account(context.current_user(), tx_id, customer_id,
                                            forms.read_reason(data))
    return jsonify({"application_id": application_id})


@bp.post("/transactions/<int:tx_id>/not-receivable")
@requires("reviewer")
def not_receivable(tx_id: int) -> Response:
    actions.mark_not_receivable(context.current_user(), tx_id,
                                forms.read_reason(body(), required=True))
    return jsonify({"transaction_id": tx_id, "state": "not_receivable"})


@bp.post("/transactions/<int:tx_id>/dispute")
@requires("reviewer")
def dispute(tx_id: int) -> Response:
    data = body()
    raw_ids = data.get("item_ids")
    if not isinstance(raw_ids, list) or not raw_ids:
        raise InputError("item_ids: a non-empty list of open item ids", where="item_ids")
    ids = actions.open_dispute(context.current_user(),
                               [forms.read_int(i, "item_ids") for i in raw_ids],
                               str(data.get("reason_code", "")), str(data.get("note", "")),
                               transaction_id=tx_id)
    return jsonify({"dispute_ids": ids})


@bp.get("/open-items")
@requires("viewer")
def open_items() -> Response:
    with context.database().session() as s:
        rows = records.search_open_items(s, request.args.to_dict())
    return jsonify({"items": [columns(r, ITEM_FIELDS) for r in rows]})


@bp.get("/customers")
@requires("viewer")
def customers() -> Response:
    with context.database().session() as s:
        rows = records.search_customers(s, request.args.get("q", ""), limit=100)
    return jsonify({"customers": [columns(r, ("customer_id", "name", "segment", "country"))
                                  for r in rows]})


@bp.get("/customers/<customer_id>")
@requires("viewer")
def customer(customer_id: str) -> Response:
    with context.database().session() as s:
        d = records.customer_detail(s, customer_id, dt.datetime.now(dt.UTC).date())
        result = {
            "customer": columns(d.row, ("customer_id", "name", "segment", "country",
                                        "payment_terms", "currency")),
            "ibans": list(d.ibans), "aging": plain(d.aging),
            "open_items": [dict(columns(e.item, ITEM_FIELDS), bucket=e.bucket,
                                days_overdue=e.days_overdue) for e in d.open_items],
            "applications": [columns(a, APPLICATION_FIELDS) for a in d.applications],
            "evidence": [columns(e, ("id", "kind", "value", "created_by", "created_at"))
                         for e in d.evidence],
            "dunning_stage": d.dunning_stage,
        }
    return jsonify(result)


@bp.post("/evidence/<int:evidence_id>/remove")
@requires("reviewer")
def remove_evidence(evidence_id: int) -> Response:
    actions.remove_evidence(context.current_user(), evidence_id, forms.read_reason(body()))
    return jsonify({"removed": evidence_id})


@bp.get("/applications/<int:application_id>")
@requires("viewer")
def application(application_id: int) -> Response:
    with context.database().session() as s:
        row, _, _ = records.application_detail(s, application_id)
        result = columns(row, APPLICATION_FIELDS)
        result["lines"] = [columns(line, ("kind", "item_id", "amount", "reason"))
                           for line in row.lines]
    return jsonify(result)


@bp.post("/applications/<int:application_id>/reverse")
@requires("approver")
def reverse(application_id: int) -> Response:
    reversal = actions.reverse(context.current_user(), application_id,
                               forms.read_reason(body(), required=True))
    return jsonify({"reversal_id": reversal})


@bp.get("/statements")
@requires("viewer")
def statements() -> Response:
    with context.database().session() as s:
        rows = records.list_statements(s)
        result = [dict(columns(r.statement, (
            "id", "account", "currency", "statement_id", "sequence", "opening_balance",
            "closing_balance", "opening_date", "closing_date", "balance_ok", "imported_at")),
            filename=r.file.filename, file_status=r.file.status, transactions=r.transactions)
            for r in rows]
    return jsonify({"statements": result})


@bp.post("/statements")
@requires("reviewer")
def upload_statement() -> Response:
    result = actions.import_statement(context.current_user(), request.files.get("file"))
    return jsonify(plain(result))


@bp.get("/audit")
@requires("viewer")
def audit() -> Response:
    filters = AuditFilter.from_args(request.args.to_dict())
    before = forms.read_int(request.args["before"], "before") if request.args.get("before") \
        else None
    with context.database().session() as s:
        rows = audit_log(s, filters, before)
    return jsonify({"entries": [columns(r, ("seq", "at", "actor", "action", "subject",
                                            "reason", "data")) for r in rows]})


# --- pushing master data -------------------------------------------------------------------


def _records_as_csv(kind: str) -> io.BytesIO:
    """The pushed records as the CSV the masterdata import reads: one service, one set of
    rules for what a valid customer or open item is."""
    data = request.get_json(silent=True)
    records_list = data.get(kind) if isinstance(data, dict) else data
    if not isinstance(records_list, list) or not records_list:
        raise InputError(f"send a JSON list of {kind} (or {{\"{kind}\": [...]}})", where="body")
    if len(records_list) > PUSH_LIMIT:
        raise InputError(f"at most {PUSH_LIMIT} records per push", where="body")
    header: list[str] = []
    for index, record in enumerate(records_list):
        if not isinstance(record, dict):
            raise InputError("each record is a JSON object", where=f"{kind}[{index}]")
        header += [k for k in record if k not in header]
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    for record in records_list:
        writer.writerow([_cell(record.get(k)) for k in header])
    return io.BytesIO(text.getvalue().encode("utf-8"))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    if isinstance(value, float):
        raise InputError(f"amount {value!r} sent as a JSON number: send amounts as strings")
    return str(value)


@bp.post("/customers")
@requires("reviewer")
def push_customers() -> Response:
    from reconciler.masterdata.customers import import_customers

    summary = import_customers(context.database(), _records_as_csv("customers"),
                               filename="api:customers", actor=context.current_user().actor)
    return jsonify(plain(summary))


@bp.post("/open-items")
@requires("reviewer")
def push_open_items() -> Response:
    from reconciler.masterdata.open_items import import_open_items

    summary = import_open_items(context.database(), _records_as_csv("open_items"),
                                default_entity=context.settings().entity,
                                filename="api:open_items", actor=context.current_user().actor)
    return jsonify(plain(summary))

