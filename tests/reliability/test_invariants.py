"""The checks of the reliability runs catch what they are meant to catch.

A proof by checks is only as good as the checks: each one here passes on a correct ledger and
fails once the stored data is broken the way a lost update or a half-written decision would
break it (rows written straight with SQL, as a buggy service would).
"""

from __future__ import annotations

from sqlalchemy import text

from reconciler.applying import apply_manual
from reconciler.db.session import Database
from reconciler.domain import Allocation, ItemKey
from reconciler.money import money
from tests.engine.builders import add_customer, add_item, add_payment
from tests.reliability import invariants


def _ledger(db: Database) -> int:
    """One customer, two invoices, one payment of 150.00 applied to 100.00 + 50.00 of them."""
    with db.transaction() as session:
        add_customer(session, "C1", "Acme")
        add_item(session, "INV-1", "C1", "100.00")
        add_item(session, "INV-2", "C1", "80.00")
        payment = add_payment(session, "150.00", name="Acme")
        add_payment(session, "20.00", name="Acme")  # stays unapplied
        apply_manual(session, payment, [Allocation(ItemKey("MAIN", "INV-1"), money("100.00")),
                                        Allocation(ItemKey("MAIN", "INV-2"), money("50.00"))],
                     actor="user:test")
    return payment


def _failed(db: Database) -> set[str]:
    return {check.name for check in invariants.money_checks(db) if not check.ok}


def _sql(db: Database, statement: str) -> None:
    with db.engine.begin() as conn:
        conn.execute(text(statement))


def test_a_correct_ledger_passes_and_totals_add_up(db: Database) -> None:
    _ledger(db)
    assert _failed(db) == set()
    totals = invariants.totals(db)
    assert totals.payments == money("170.00")
    assert totals.applied == money("150.00")
    assert totals.not_applied == money("20.00")


def test_a_second_live_application_is_caught(db: Database) -> None:
    payment = _ledger(db)
    _sql(db, "INSERT INTO applications (transaction_id, status, explanation, actor, applied_at) "
             f"VALUES ({payment}, 'auto', '', 'bug', CURRENT_TIMESTAMP)")
    assert "no payment applied twice" in _failed(db)


def test_an_item_settled_twice_or_beyond_its_amount_is_caught(db: Database) -> None:
    _ledger(db)
    _sql(db, "UPDATE open_items SET open_amount = open_amount + 10 "
             "WHERE document_number = 'INV-2'")  # a lost update of the open amount
    assert "item open = ERP open - live applications" in _failed(db)


def test_a_half_written_application_is_caught(db: Database) -> None:
    _ledger(db)
    _sql(db, "DELETE FROM application_lines WHERE id = (SELECT MAX(id) FROM application_lines)")
    failed = _failed(db)
    assert "applied + adjustments + unapplied = amount" in failed
    assert "item open = ERP open - live applications" in failed


def test_a_changed_journal_is_caught(db: Database) -> None:
    _ledger(db)
    _sql(db, "UPDATE journal SET reason = 'edited' WHERE seq = 1")
    assert "journal verifies" in _failed(db)
