"""Applications of every kind, their invariants, and reversals (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from reconciler import journal
from reconciler.applying import (
    apply_manual,
    apply_proposal,
    mark_not_receivable,
    put_on_account,
    reverse_application,
)
from reconciler.db.bank import TransactionRow
from reconciler.db.journal import JournalRow
from reconciler.db.ledger import OpenItemRow
from reconciler.db.matching import ApplicationLineRow, ApplicationRow
from reconciler.db.session import Database
from reconciler.domain import Adjustment, AdjustmentKind, Allocation, ItemKey, Proposal
from reconciler.errors import ConflictError, InputError, PermissionDeniedError
from tests.engine.builders import TODAY, add_customer, add_item, add_payment

D = Decimal


def key(document: str) -> ItemKey:
    return ItemKey("MAIN", document)


def alloc(document: str, amount: str, discount: str = "0") -> Allocation:
    return Allocation(key(document), D(amount), D(discount))


def item(db: Database, document: str) -> OpenItemRow:
    with db.session() as s:
        return s.scalars(select(OpenItemRow).where(OpenItemRow.document_number == document)).one()


def state(db: Database, transaction_id: int) -> str:
    with db.session() as s:
        row = s.get(TransactionRow, transaction_id)
        assert row is not None
        return row.state


def lines(db: Database, application_id: int) -> list[tuple[str, Decimal]]:
    with db.session() as s:
        rows = s.scalars(select(ApplicationLineRow).where(
            ApplicationLineRow.application_id == application_id).order_by(ApplicationLineRow.id))
        return [(r.kind, r.amount) for r in rows]


def setup(db: Database, payment: str, *items: tuple[str, str]) -> int:
    with db.transaction() as s:
        add_customer(s, "C1", "Acme GmbH", ("DE02100100100006820101",))
        for document, amount in items:
            add_item(s, document, "C1", amount, discount_rate="0.02",
                     discount_due_date=TODAY + dt.timedelta(days=3))
        return add_payment(s, payment, name="ACME GMBH", iban="DE02100100100006820101")


def test_full_application_closes_the_item(db: Database) -> None:
    tx = setup(db, "100.00", ("INV-1", "100.00"))
    proposal = Proposal(tx, "reference", "C1", (alloc("INV-1", "100.00"),), confidence=0.99,
                        explanation="INV-1 in the remittance text")
    with db.transaction() as s:
        app = apply_proposal(s, proposal, status="auto", actor="matcher:reference@0.1.0")
    assert item(db, "INV-1").open_amount == 0 and item(db, "INV-1").status == "closed"
    assert state(db, tx) == "applied"
    assert lines(db, app) == [("item", D("100.00"))]
    with db.session() as s:
        row = s.scalars(select(JournalRow).where(JournalRow.action == "application.created")).one()
        assert row.actor == "matcher:reference@0.1.0" and row.subject == f"payment:{tx}"


def test_partial_payment_leaves_the_rest_open(db: Database) -> None:
    tx = setup(db, "40.00", ("INV-1", "100.00"))
    with db.transaction() as s:
        apply_manual(s, tx, [alloc("INV-1", "40.00")], actor="user:alice")
    assert item(db, "INV-1").open_amount == D("60.00") and item(db, "INV-1").status == "open"


def test_several_items_and_a_credit_note_netted(db: Database) -> None:
    tx = setup(db, "170.00", ("INV-1", "100.00"), ("INV-2", "100.00"), ("CN-1", "-30.00"))
    with db.transaction() as s:
        app = apply_manual(s, tx, [alloc("INV-1", "100.00"), alloc("INV-2", "100.00"),
                                   alloc("CN-1", "-30.00")], actor="user:alice")
    assert [item(db, d).status for d in ("INV-1", "INV-2", "CN-1")] == ["closed"] * 3
    assert sum(amount for _, amount in lines(db, app)) == D("170.00")


def test_cash_discount_inside_terms(db: Database) -> None:
    tx = setup(db, "98.00", ("INV-1", "100.00"))
    with db.transaction() as s:
        app = apply_manual(s, tx, [alloc("INV-1", "98.00", "2.00")], actor="user:alice")
    assert item(db, "INV-1").open_amount == 0
    assert lines(db, app) == [("item", D("98.00")), ("discount", D("2.00"))]


def test_cash_discount_outside_terms_is_refused(db: Database) -> None:
    with db.transaction() as s:
        add_customer(s, "C1", "Acme GmbH")
        add_item(s, "INV-1", "C1", "100.00", discount_rate="0.02",
                 discount_due_date=TODAY - dt.timedelta(days=1))
        tx = add_payment(s, "98.00")
    with pytest.raises(InputError, match="after its terms"), db.transaction() as s:
        apply_manual(s, tx, [alloc("INV-1", "98.00", "2.00")], actor="user:alice")
    assert item(db, "INV-1").open_amount == D("100.00")


def test_bank_charge_inside_tolerance_and_refused_beyond(db: Database) -> None:
    tx = setup(db, "92.50", ("INV-1", "100.00"))
    charge = Adjustment(AdjustmentKind.BANK_CHARGE, D("-7.50"), "SHA charges")
    with db.transaction() as s:
        apply_manual(s, tx, [alloc("INV-1", "100.00")], [charge], actor="user:alice")
    assert item(db, "INV-1").status == "closed"
    with db.transaction() as s:
        add_item(s, "INV-9", "C1", "100.00")
        other = add_payment(s, "80.00")
    too_much = Adjustment(AdjustmentKind.BANK_CHARGE, D("-20.00"))
    with pytest.raises(InputError, match="tolerance"), db.transaction() as s:
        apply_manual(s, other, [alloc("INV-9", "100.00")], [too_much], actor="user:alice")


def test_overpayment_goes_to_unapplied_cash(db: Database) -> None:
    tx = setup(db, "120.00", ("INV-1", "100.00"))
    extra = Adjustment(AdjustmentKind.UNAPPLIED, D("20.00"), "overpaid")
    with db.transaction() as s:
        app = apply_manual(s, tx, [alloc("INV-1", "100.00")], [extra], actor="user:alice")
    assert lines(db, app) == [("item", D("100.00")), ("unapplied", D("20.00"))]
    with db.session() as s:
        assert s.get(ApplicationRow, app).customer_id == "C1"  # type: ignore[union-attr]


def test_write_off_limit_needs_an_approver(db: Database) -> None:
    tx = setup(db, "30.00", ("INV-1", "100.00"))
    big = Adjustment(AdjustmentKind.WRITE_OFF, D("-70.00"), "goodwill")
    with pytest.raises(PermissionDeniedError), db.transaction() as s:
        apply_manual(s, tx, [alloc("INV-1", "100.00")], [big], actor="user:clerk")
    assert item(db, "INV-1").open_amount == D("100.00")
    with db.transaction() as s:
        apply_manual(s, tx, [alloc("INV-1", "100.00")], [big], actor="user:boss", approver=True)
    assert item(db, "INV-1").status == "closed"


def test_small_write_off_without_approver(db: Database) -> None:
    tx = setup(db, "99.60", ("INV-1", "100.00"))
    small = Adjustment(AdjustmentKind.WRITE_OFF, D("-0.40"), "rounding")
    with db.transaction() as s:
        apply_manual(s, tx, [alloc("INV-1", "100.00")], [small], actor="user:clerk")
    assert item(db, "INV-1").status == "closed"


def test_put_on_account_and_not_receivable(db: Database) -> None:
    tx = setup(db, "55.00", ("INV-1", "100.00"))
    with db.transaction() as s:
        other = add_payment(s, "12.00", name="Tax office")
        app = put_on_account(s, tx, "C1", actor="user:alice")
        mark_not_receivable(s, other, actor="user:alice", reason="VAT refund")
    assert state(db, tx) == "on_account" and state(db, other) == "not_receivable"
    assert lines(db, app) == [("unapplied", D("55.00"))]
    with pytest.raises(ConflictError), db.transaction() as s:
        apply_manual(s, other, [alloc("INV-1", "12.00")], actor="user:alice")


def test_over_application_is_refused(db: Database) -> None:
    tx = setup(db, "150.00", ("INV-1", "100.00"))
    with pytest.raises(ConflictError, match="cross zero"), db.transaction() as s:
        apply_manual(s, tx, [alloc("INV-1", "150.00")], actor="user:alice")
    assert item(db, "INV-1").open_amount == D("100.00") and state(db, tx) == "unreconciled"


def test_unbalanced_application_is_refused(db: Database) -> None:
    tx = setup(db, "150.00", ("INV-1", "100.00"))
    with pytest.raises(InputError, match="!= amount"), db.transaction() as s:
        apply_manual(s, tx, [alloc("INV-1", "100.00")], actor="user:alice")


def test_double_application_is_refused(db: Database) -> None:
    tx = setup(db, "50.00", ("INV-1", "100.00"))
    with db.transaction() as s:
        apply_manual(s, tx, [alloc("INV-1", "50.00")], actor="user:alice")
    with pytest.raises(ConflictError, match="already applied"), db.transaction() as s:
        apply_manual(s, tx, [alloc("INV-1", "50.00")], actor="user:bob")
    assert item(db, "INV-1").open_amount == D("50.00")


def test_reversal_restores_everything_and_the_journal_verifies(db: Database) -> None:
    tx = setup(db, "168.00", ("INV-1", "100.00"), ("INV-2", "100.00"), ("CN-1", "-30.00"))
    allocations = [alloc("INV-1", "98.00", "2.00"), alloc("INV-2", "100.00"),
                   alloc("CN-1", "-30.00")]
    with db.transaction() as s:
        app = apply_manual(s, tx, allocations, actor="user:alice")
    with db.session() as s:
        learned = s.scalar(select(func.count()).select_from(JournalRow).where(
            JournalRow.action == "evidence.learned"))
    with db.transaction() as s:
        reversal = reverse_application(s, app, actor="user:bob", reason="wrong customer")
    assert [(item(db, d).open_amount, item(db, d).status) for d in ("INV-1", "INV-2", "CN-1")] \
        == [(D("100.00"), "open"), (D("100.00"), "open"), (D("-30.00"), "open")]
    assert state(db, tx) == "unreconciled"
    original, undo = lines(db, app), lines(db, reversal)
    assert [(kind, -amount) for kind, amount in original] == undo
    with db.session() as s:
        row = s.get(ApplicationRow, app)
        assert row is not None and row.reversed_by_id == reversal
        assert s.scalar(select(func.count()).select_from(ApplicationRow)) == 2  # nothing deleted
        assert journal.verify(s).ok
        actions = list(s.scalars(select(JournalRow.action).order_by(JournalRow.seq)))
    assert actions.count("application.reversed") == 1 and learned == 0  # name == master name
    with pytest.raises(ConflictError), db.transaction() as s:
        reverse_application(s, app, actor="user:bob", reason="again")
    # The line can be applied afresh once reversed.
    with db.transaction() as s:
        apply_manual(s, tx, allocations, actor="user:alice")
    assert item(db, "INV-2").status == "closed"


def test_disputed_and_foreign_currency_items_are_refused(db: Database) -> None:
    with db.transaction() as s:
        add_customer(s, "C1", "Acme GmbH")
        add_item(s, "INV-D", "C1", "10.00", status="disputed")
        add_item(s, "INV-USD", "C1", "10.00", currency="USD")
        tx = add_payment(s, "10.00")
    with pytest.raises(ConflictError, match="dispute"), db.transaction() as s:
        apply_manual(s, tx, [alloc("INV-D", "10.00")], actor="user:alice")
    with pytest.raises(InputError, match="USD"), db.transaction() as s:
        apply_manual(s, tx, [alloc("INV-USD", "10.00")], actor="user:alice")


def test_claim_skips_lines_decided_or_held_by_another_worker(db: Database) -> None:
    from reconciler.applying import claim_state

    tx = setup(db, "100.00", ("INV-1", "100.00"))
    if db.is_postgres:
        # Another worker holds the line: SKIP LOCKED passes over it instead of waiting.
        with db.transaction() as holder:
            assert claim_state(holder, tx) == "unreconciled"
            with db.transaction() as other:
                assert claim_state(other, tx) is None
    with db.transaction() as s:
        apply_manual(s, tx, [alloc("INV-1", "100.00")], actor="user:alice")
    with db.transaction() as s:  # decided meanwhile: nothing left to claim
        assert claim_state(s, tx) is None
