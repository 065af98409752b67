"""The match export: columns, statuses and ranks exactly as DESIGN.md promises."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest

from reconciler.applying import apply_manual, apply_proposal, put_on_account
from reconciler.db.session import Database
from reconciler.domain import Adjustment, AdjustmentKind, Allocation, ItemKey, Proposal
from reconciler.errors import InputError
from reconciler.export import COLUMNS, export_matches
from tests.engine.builders import add_customer, add_item, add_payment, add_proposal

CONTRACT = ["bank_reference", "rank", "document_number", "applied_amount", "status", "matcher",
            "confidence"]


def build(db: Database) -> None:
    with db.transaction() as s:
        add_customer(s, "C1", "Acme GmbH", ("DE02100100100006820101",))
        for number in ("INV-1", "INV-2", "INV-3", "INV-4", "INV-5", "INV-6"):
            add_item(s, number, "C1", "100.00")
        auto = add_payment(s, "100.00", bank_reference="AUTO1", name="Acme")
        manual = add_payment(s, "195.00", bank_reference="MAN1")
        suggested = add_payment(s, "200.00", bank_reference="SUG1")
        add_payment(s, "77.00", bank_reference="NONE1")
        on_account = add_payment(s, "50.00", bank_reference="ACC1")
        add_payment(s, "-30.00", bank_reference="DEBIT1")  # debits are not receivables
        apply_proposal(s, Proposal(auto, "reference", "C1", (Allocation(ItemKey("MAIN", "INV-1"),
                                                                        Decimal("100.00")),),
                                   confidence=0.99, explanation="INV-1 in the text"),
                       status="auto", actor="matcher:reference@0.1.0")
        apply_manual(s, manual, [Allocation(ItemKey("MAIN", "INV-2"), Decimal("100.00")),
                                 Allocation(ItemKey("MAIN", "INV-3"), Decimal("100.00"))],
                     [Adjustment(AdjustmentKind.BANK_CHARGE, Decimal("-5.00"))],
                     actor="user:alice")
        add_proposal(s, suggested, [("INV-4", "100.00"), ("INV-5", "100.00")], rank=1,
                     matcher="combination", confidence=0.8)
        add_proposal(s, suggested, [("INV-6", "100.00"), ("INV-4", "100.00")], rank=2,
                     matcher="combination", confidence=0.6)
        put_on_account(s, on_account, "C1", actor="user:alice")


def export(db: Database, format: str) -> str:
    out = io.StringIO()
    with db.session() as s:
        export_matches(s, out, format=format)
    return out.getvalue()


def test_csv_columns_statuses_and_ranks(db: Database) -> None:
    build(db)
    rows = list(csv.DictReader(io.StringIO(export(db, "csv"))))
    assert list(rows[0].keys())[:7] == CONTRACT and list(rows[0].keys()) == list(COLUMNS)
    got = [(r["bank_reference"], r["rank"], r["document_number"], r["applied_amount"],
            r["status"], r["matcher"]) for r in rows]
    assert got == [
        ("AUTO1", "1", "INV-1", "100.00", "auto", "reference"),
        ("MAN1", "1", "INV-2", "100.00", "manual", ""),
        ("MAN1", "1", "INV-3", "100.00", "manual", ""),
        ("SUG1", "1", "INV-4", "100.00", "suggested", "combination"),
        ("SUG1", "1", "INV-5", "100.00", "suggested", "combination"),
        ("SUG1", "2", "INV-6", "100.00", "suggested", "combination"),
        ("SUG1", "2", "INV-4", "100.00", "suggested", "combination"),
        ("NONE1", "1", "", "", "unmatched", ""),
        ("ACC1", "1", "", "0.00", "manual", ""),
    ]
    by_ref = {r["bank_reference"]: r for r in rows}
    assert by_ref["AUTO1"]["confidence"] == "0.9900"
    assert by_ref["AUTO1"]["explanation"] == "INV-1 in the text"
    assert by_ref["MAN1"]["adjustment_amount"] == "-5.00" and by_ref["MAN1"]["confidence"] == ""
    assert by_ref["ACC1"]["unapplied_amount"] == "50.00" and by_ref["ACC1"]["customer_id"] == "C1"
    assert by_ref["NONE1"]["amount"] == "77.00" and by_ref["NONE1"]["statement_id"] == "TEST"
    assert by_ref["AUTO1"]["value_date"] == "2026-11-20"


def test_json_records_carry_the_same_fields(db: Database) -> None:
    build(db)
    records = json.loads(export(db, "json"))
    rows = list(csv.DictReader(io.StringIO(export(db, "csv"))))
    assert len(records) == len(rows) == 9
    assert all(list(r) == list(COLUMNS) for r in records)
    unmatched = next(r for r in records if r["status"] == "unmatched")
    assert unmatched["document_number"] is None and unmatched["rank"] == 1
    assert records[0]["applied_amount"] == "100.00" and records[0]["confidence"] == 0.99


def test_empty_export_and_unknown_format(db: Database) -> None:
    assert json.loads(export(db, "json")) == []
    assert export(db, "csv").strip() == ",".join(COLUMNS)
    with pytest.raises(InputError), db.session() as s:
        export_matches(s, io.StringIO(), format="xml")
