"""Postings derived from applications: balanced journal lines with a gap-free sequence."""

from __future__ import annotations

from decimal import Decimal

from reconciler.db.session import Database
from reconciler.postings import derive_postings
from tests.connectors.factory import apply, payment_with_items, reverse


def totals(lines: list[dict[str, str]]) -> tuple[Decimal, Decimal]:
    debit = sum((Decimal(ln["amount"]) for ln in lines if ln["side"] == "debit"), Decimal(0))
    credit = sum((Decimal(ln["amount"]) for ln in lines if ln["side"] == "credit"), Decimal(0))
    return debit, credit


def test_application_and_reversal_become_balanced_entries_in_sequence(db: Database) -> None:
    ids = payment_with_items(db)
    first = apply(db, ids)
    with db.transaction() as session:
        created = derive_postings(session)
        again = derive_postings(session)
        entry = dict(created[0].payload)
    assert [p.sequence for p in created] == [1] and again == []
    lines = [(ln["account"], ln["side"], ln["amount"], ln["document_number"])
             for ln in entry["lines"]]
    assert lines == [
        ("bank", "debit", "1965.00", None),
        ("receivable", "credit", "1000.00", "INV-1-1"),
        ("receivable", "credit", "1000.00", "INV-1-2"),
        ("discount", "debit", "20.00", "INV-1-1"),
        ("bank_charges", "debit", "15.00", None),
    ]
    assert totals(entry["lines"]) == (Decimal("2000.00"), Decimal("2000.00"))
    assert entry["transaction"]["bank_reference"] == "BREF-1"

    reverse(db, first)
    with db.transaction() as session:
        [reversal] = derive_postings(session)
        payload = dict(reversal.payload)
    assert reversal.sequence == 2 and payload["kind"] == "reversal"
    assert payload["reverses_sequence"] == 1
    swapped = {"debit": "credit", "credit": "debit"}
    assert [(ln["account"], ln["side"]) for ln in payload["lines"]] == [
        (account, swapped[side]) for account, side, _, _ in lines]


def test_overpayment_goes_to_unapplied_cash(db: Database) -> None:
    ids = payment_with_items(db, amount="1050.00", tag="2")
    from tests.connectors.factory import _application

    _application(db, ids["transaction"], [("item", ids["item1"], "1000.00"),
                                          ("unapplied", None, "50.00")], None)
    with db.transaction() as session:
        [posting] = derive_postings(session)
        lines = posting.payload["lines"]
    assert isinstance(lines, list)
    assert [(ln["account"], ln["side"], ln["amount"]) for ln in lines] == [
        ("bank", "debit", "1050.00"), ("receivable", "credit", "1000.00"),
        ("unapplied_cash", "credit", "50.00")]
    assert lines[2]["customer_id"] == "C1"


def test_posting_creation_is_journaled(db: Database) -> None:
    from sqlalchemy import select

    from reconciler import journal
    from reconciler.db.journal import JournalRow

    apply(db, payment_with_items(db))
    with db.transaction() as session:
        [posting] = derive_postings(session)
    with db.session() as session:
        rows = session.scalars(select(JournalRow).where(
            JournalRow.action == "posting.created")).all()
        assert journal.verify(session).ok
    assert [(r.subject, r.data["posting_id"]) for r in rows] == [
        ("posting:1", posting.posting_id)]
