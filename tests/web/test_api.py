"""The JSON API: lists, decisions, master-data push, and an OpenAPI document that covers
every API route."""

from __future__ import annotations

from decimal import Decimal

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from reconciler import users
from reconciler.db.ledger import CustomerRow, OpenItemRow
from reconciler.db.session import Database
from tests.web.seed import Seeded


def bearer(db: Database, name: str) -> dict[str, str]:
    with db.transaction() as s:
        return {"Authorization": f"Bearer {users.create_token(s, name, actor='test')}"}


def api(app: Flask) -> FlaskClient:
    return app.test_client()


def test_openapi_covers_every_api_route(app: Flask, db: Database) -> None:
    document = api(app).get("/api/v1/openapi.json", headers=bearer(db, "vera")).get_json()
    assert document["openapi"].startswith("3.1")
    documented = {(method.upper(), "/api/v1" + path.replace("{", "<").replace("}", ">"))
                  for path, ops in document["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        plain = rule.rule.replace("<int:", "<")
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            assert (method, plain) in documented, (method, rule.rule)


def test_queue_and_accept(app: Flask, db: Database, seeded: Seeded) -> None:
    client, headers = api(app), bearer(db, "rita")
    queue = client.get("/api/v1/queue", headers=headers).get_json()
    assert queue["total_pending"] == 3
    first = queue["entries"][0]
    assert first["proposal"]["id"] == seeded.proposal_exact
    assert first["transaction"]["amount"] == "1190.00"
    assert first["alternatives"][0]["id"] == seeded.proposal_alt
    accepted = client.post(f"/api/v1/proposals/{seeded.proposal_exact}/accept", headers=headers)
    application_id = accepted.get_json()["application_id"]
    detail = client.get(f"/api/v1/applications/{application_id}", headers=headers).get_json()
    assert detail["lines"] == [{"kind": "item", "item_id": seeded.item_ids["INV-1"],
                                "amount": "1190.00", "reason": ""}]
    again = client.post(f"/api/v1/proposals/{seeded.proposal_exact}/accept", headers=headers)
    assert again.status_code == 409 and "not pending" in again.get_json()["error"]


def test_manual_match_with_json(app: Flask, db: Database, seeded: Seeded) -> None:
    client, headers = api(app), bearer(db, "rita")
    url = f"/api/v1/transactions/{seeded.tx_unmatched}/match"
    bad = client.post(url, headers=headers, json={"allocations": [
        {"document_number": "INV-3", "amount": 300.5}]})
    assert bad.status_code == 400 and "not an amount" in bad.get_json()["error"]
    unknown = client.post(url, headers=headers, json={"allocations": [
        {"item_id": 424242, "amount": "300.00"}]})
    assert unknown.status_code == 400 and "424242" in unknown.get_json()["error"]
    ok = client.post(url, headers=headers, json={
        "allocations": [{"document_number": "INV-3", "amount": "300.00"}], "reason": "call"})
    assert ok.status_code == 200, ok.get_json()
    with db.session() as s:
        item = s.get(OpenItemRow, seeded.item_ids["INV-3"])
        assert item is not None and item.open_amount == Decimal("200.00")


def test_exceptions_search_and_not_receivable(app: Flask, db: Database, seeded: Seeded) -> None:
    client, headers = api(app), bearer(db, "rita")
    listed = client.get("/api/v1/exceptions?q=unknown", headers=headers).get_json()
    assert [t["id"] for t in listed["transactions"]] == [seeded.tx_unmatched]
    items = client.get("/api/v1/open-items?customer=C002&amount=250.00",
                       headers=headers).get_json()["items"]
    assert [i["document_number"] for i in items] == ["INV-4"]
    missing = client.post(f"/api/v1/transactions/{seeded.tx_unmatched}/not-receivable",
                          headers=headers, json={})
    assert missing.status_code == 400
    done = client.post(f"/api/v1/transactions/{seeded.tx_unmatched}/not-receivable",
                       headers=headers, json={"reason": "internal transfer"})
    assert done.get_json()["state"] == "not_receivable"
    detail = client.get(f"/api/v1/transactions/{seeded.tx_unmatched}", headers=headers)
    assert detail.get_json()["history"][0]["action"] == "transaction.not_receivable"


def test_reverse_needs_an_approver(app: Flask, db: Database, seeded: Seeded) -> None:
    client = api(app)
    reviewer, approver = bearer(db, "rita"), bearer(db, "arno")
    application_id = client.post(f"/api/v1/proposals/{seeded.proposal_exact}/accept",
                                 headers=reviewer).get_json()["application_id"]
    url = f"/api/v1/applications/{application_id}/reverse"
    assert client.post(url, headers=reviewer, json={"reason": "x"}).status_code == 403
    done = client.post(url, headers=approver, json={"reason": "wrong customer"})
    assert done.status_code == 200 and done.get_json()["reversal_id"] > application_id


def test_push_customers_and_open_items(app: Flask, db: Database) -> None:
    client, headers = api(app), bearer(db, "rita")
    customers = client.post("/api/v1/customers", headers=headers, json=[
        {"customer_id": "C100", "name": "Gamma AG", "ibans": ["DE44500105175407324931"],
         "country": "DE", "payment_terms": "NET30"}])
    assert customers.status_code == 200, customers.get_json()
    assert customers.get_json()["inserted"] == 1
    items = client.post("/api/v1/open-items", headers=headers, json={"open_items": [
        {"document_number": "G-1", "document_type": "invoice", "customer_id": "C100",
         "currency": "EUR", "amount": "100.00", "open_amount": "100.00",
         "issue_date": "2026-11-01", "due_date": "2026-12-01"}]})
    assert items.status_code == 200, items.get_json()
    with db.session() as s:
        assert s.scalar(select(CustomerRow.name).where(CustomerRow.customer_id == "C100")) \
            == "Gamma AG"
        item = s.scalar(select(OpenItemRow).where(OpenItemRow.document_number == "G-1"))
        assert item is not None and item.open_amount == Decimal("100.00")
    bad = client.post("/api/v1/open-items", headers=headers, json=[
        {"document_number": "G-2", "document_type": "invoice", "customer_id": "C100",
         "currency": "EUR", "amount": "abc", "open_amount": "1", "issue_date": "2026-11-01",
         "due_date": "2026-13-01"}])
    assert bad.status_code == 400
    assert bad.get_json()["problems"]
    with db.session() as s:
        assert s.scalar(select(OpenItemRow).where(OpenItemRow.document_number == "G-2")) is None
    viewer = client.post("/api/v1/customers", headers=bearer(db, "vera"), json=[])
    assert viewer.status_code == 403


def test_dashboard_customer_statements_audit(app: Flask, db: Database, seeded: Seeded) -> None:
    client, headers = api(app), bearer(db, "vera")
    figures = client.get("/api/v1/dashboard", headers=headers).get_json()
    assert figures["suggestions_pending"] == 3 and figures["exceptions_open"] == 1
    customer = client.get("/api/v1/customers/C002", headers=headers).get_json()
    assert customer["aging"]["31-60"] == "500.00"
    statements = client.get("/api/v1/statements", headers=headers).get_json()["statements"]
    assert statements[0]["balance_ok"] is True and statements[0]["transactions"] == 3
    audit = client.get("/api/v1/audit?action=user.token", headers=headers).get_json()
    assert audit["entries"][0]["action"] == "user.token_created"
    assert client.get("/api/v1/customers?q=beta", headers=headers).get_json()["customers"]
