"""The OpenAPI 3.1 description of `/api/v1`, built from one table of operations.

A test walks `app.url_map` and fails when an API route is missing here, so the document
cannot fall behind the code.
"""

from __future__ import annotations

from typing import Any

from reconciler import __version__

Amount = {"type": "string", "pattern": r"^-?\d+(\.\d+)?$",
          "description": "exact decimal amount as a string, signed"}
Date = {"type": "string", "format": "date"}
DateTime = {"type": "string", "format": "date-time"}
Error = {"type": "object", "required": ["error", "status"],
         "properties": {"error": {"type": "string"}, "status": {"type": "integer"},
                        "problems": {"type": "array", "items": {"type": "string"}}}}

SCHEMAS: dict[str, Any] = {
    "Error": Error,
    "Allocation": {"type": "object", "required": ["amount"], "properties": {
        "item_id": {"type": "integer"}, "entity": {"type": "string"},
        "document_number": {"type": "string"}, "amount": Amount, "discount": Amount}},
    "Adjustment": {"type": "object", "required": ["kind", "amount"], "properties": {
        "kind": {"enum": ["bank_charge", "write_off", "unapplied"]}, "amount": Amount,
        "reason": {"type": "string"}}},
    "Decision": {"type": "object", "properties": {
        "allocations": {"type": "array", "items": {"$ref": "#/components/schemas/Allocation"}},
        "adjustments": {"type": "array", "items": {"$ref": "#/components/schemas/Adjustment"}},
        "reason": {"type": "string"}, "customer_id": {"type": "string"}}},
    "Reason": {"type": "object", "properties": {"reason": {"type": "string"}}},
    "Transaction": {"type": "object", "properties": {
        "id": {"type": "integer"}, "amount": Amount, "currency": {"type": "string"},
        "booking_date": Date, "value_date": Date, "bank_reference": {"type": "string"},
        "end_to_end_id": {"type": ["string", "null"]},
        "counterparty_name": {"type": ["string", "null"]},
        "counterparty_iban": {"type": ["string", "null"]},
        "creditor_reference": {"type": ["string", "null"]},
        "remittance_text": {"type": ["string", "null"]}, "state": {"type": "string"}}},
    "OpenItem": {"type": "object", "properties": {
        "id": {"type": "integer"}, "entity": {"type": "string"},
        "document_number": {"type": "string"},
        "document_type": {"enum": ["invoice", "credit_note"]},
        "customer_id": {"type": "string"}, "currency": {"type": "string"}, "amount": Amount,
        "open_amount": Amount, "issue_date": Date, "due_date": Date,
        "payment_reference": {"type": ["string", "null"]}, "status": {"type": "string"}}},
    "QueueEntry": {"type": "object", "properties": {
        "proposal": {"type": "object", "description": "id, rank, matcher, customer, "
                     "confidence, explanation, lines, adjustments, allocated, items_open"},
        "transaction": {"$ref": "#/components/schemas/Transaction"},
        "alternatives": {"type": "array", "items": {"type": "object"}},
        "difference": Amount}},
    "CustomerRecord": {"type": "object", "required": ["customer_id", "name"],
                       "description": "the columns of customers.csv; ibans as a list or "
                                      "';'-separated", "additionalProperties": True},
    "OpenItemRecord": {"type": "object",
                       "required": ["document_number", "document_type", "customer_id",
                                    "currency", "amount", "open_amount", "issue_date",
                                    "due_date"],
                       "description": "the columns of open_items.csv; amounts as strings",
                       "additionalProperties": True},
    "ImportSummary": {"type": "object", "properties": {
        "kind": {"type": "string"}, "rows": {"type": "integer"},
        "inserted": {"type": "integer"}, "updated": {"type": "integer"},
        "unchanged": {"type": "integer"}, "closed": {"type": "integer"},
        "warnings": {"type": "array", "items": {"type": "string"}}}},
}

# (method, path, summary, lowest role, request schema or None, response description)
OPERATIONS: tuple[tuple[str, str, str, str, str | None, str], ...] = (
    ("get", "/openapi.json", "This document", "viewer", None, "OpenAPI 3.1"),
    ("get", "/me", "The signed-in user and a CSRF token for browser clients", "viewer", None,
     "name, role, csrf_token"),
    ("get", "/dashboard", "Today's figures: imports, automatic rate, queues, unapplied cash",
     "viewer", None, "dashboard figures"),
    ("get", "/queue", "Pending suggestions, best first (keyset pages: `after`)", "viewer", None,
     "entries, next, total_pending, total_is_lower_bound"),
    ("get", "/proposals/{proposal_id}", "One suggestion with its bank line", "viewer", None,
     "a QueueEntry"),
    ("post", "/proposals/{proposal_id}/accept", "Accept a suggestion as it stands", "reviewer",
     None, "application_id"),
    ("post", "/proposals/{proposal_id}/reject", "Reject a suggestion", "reviewer", "Reason",
     "rejected"),
    ("post", "/proposals/{proposal_id}/apply", "Apply a suggestion with edited amounts, items "
     "or difference lines", "reviewer", "Decision", "application_id"),
    ("post", "/queue/bulk-accept", "Accept the best suggestion of up to `count` lines matching "
     "a filter (matcher, customer, min_confidence, max_confidence, currency)", "reviewer",
     None, "accepted, skipped"),
    ("get", "/exceptions", "Unmatched credits (q, amount, date_from, date_to, after)",
     "viewer", None, "transactions, next"),
    ("get", "/transactions/{tx_id}", "A bank line: every parsed field, suggestions, "
     "applications, history", "viewer", None, "transaction detail"),
    ("post", "/transactions/{tx_id}/match", "Match a line by hand (several items, partial)",
     "reviewer", "Decision", "application_id"),
    ("post", "/transactions/{tx_id}/on-account", "Keep the payment as unapplied cash",
     "reviewer", "Decision", "application_id"),
    ("post", "/transactions/{tx_id}/not-receivable", "Mark a line as not receivables",
     "reviewer", "Reason", "state"),
    ("post", "/transactions/{tx_id}/dispute", "Open a dispute on items (item_ids, "
     "reason_code, note)", "reviewer", None, "dispute_ids"),
    ("get", "/open-items", "Search open items (customer, amount, reference, due_from, "
     "due_to)", "viewer", None, "items"),
    ("post", "/open-items", "Push open items (upsert by entity + document_number)", "reviewer",
     "OpenItemRecord", "ImportSummary"),
    ("get", "/customers", "Search customers (q)", "viewer", None, "customers"),
    ("post", "/customers", "Push customers (upsert by customer_id)", "reviewer",
     "CustomerRecord", "ImportSummary"),
    ("get", "/customers/{customer_id}", "A customer: open items with aging, applications, "
     "learned evidence", "viewer", None, "customer detail"),
    ("post", "/evidence/{evidence_id}/remove", "Forget a learned payer detail", "reviewer",
     "Reason", "removed"),
    ("get", "/applications/{application_id}", "An application and its lines", "viewer", None,
     "application"),
    ("post", "/applications/{application_id}/reverse", "Reverse an application (approver, "
     "not the one who applied it)", "approver", "Reason", "reversal_id"),
    ("get", "/statements", "Imported statements with balance checks", "viewer", None,
     "statements"),
    ("post", "/statements", "Upload a bank file (multipart field `file`; MT940, CAMT); "
     "idempotent", "reviewer", None, "import result: status, format, new lines, diagnostics"),
    ("get", "/audit", "The audit journal (actor, action, subject, date_from, date_to, "
     "before)", "viewer", None, "entries"),
)


def _parameters(path: str) -> list[dict[str, Any]]:
    names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    return [{"name": n, "in": "path", "required": True,
             "schema": {"type": "string" if n == "customer_id" else "integer"}} for n in names]


def _errors(method: str) -> dict[str, Any]:
    ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    codes = {"401": "not signed in or bad token", "403": "role too low / four-eyes rule",
             "404": "unknown id"}
    if method == "post":
        codes |= {"400": "bad input or missing CSRF token; nothing changed",
                  "409": "conflicts with the current state"}
    return {code: {"description": text, **ref} for code, text in codes.items()}


def build_document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for method, path, summary, role, schema, answer in OPERATIONS:
        operation: dict[str, Any] = {
            "summary": summary, "description": f"Needs the **{role}** role.",
            "operationId": f"{method}_{path.strip('/').replace('/', '_').replace('{', '')}"
                           .replace("}", "").replace("-", "_").replace(".", "_"),
            "parameters": _parameters(path),
            "responses": {"200": {"description": answer,
                                  "content": {"application/json": {"schema": {}}}},
                          **_errors(method)}}
        if schema:
            body_schema: dict[str, Any] = {"$ref": f"#/components/schemas/{schema}"}
            if schema.endswith("Record"):
                body_schema = {"type": "array", "items": body_schema}
            operation["requestBody"] = {"required": schema.endswith("Record"),
                                        "content": {"application/json": {"schema": body_schema}}}
        paths.setdefault(path, {})[method] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "recon API", "version": __version__,
                 "description": "Review queue, exceptions and master data of the "
                                "reconciliation server. Amounts are exact decimal strings."},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "`recon user token NAME` prints a token"},
                "session": {"type": "apiKey", "in": "cookie", "name": "recon_session",
                            "description": "browser session; state changes also need the "
                                           "X-CSRF-Token header (see /me)"}}},
    }
