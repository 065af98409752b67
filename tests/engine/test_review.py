"""Review decisions: accept, reject, and what the engine learns from them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from reconciler import journal
from reconciler.applying import accept_proposal, reject_proposal, reverse_application
from reconciler.db.bank import TransactionRow
from reconciler.db.matching import ApplicationRow, ProposalRow
from reconciler.db.session import Database
from reconciler.errors import ConflictError, NotFoundError
from reconciler.learning import list_evidence, remove_evidence
from tests.engine.builders import add_customer, add_item, add_payment, add_proposal


def setup(db: Database) -> tuple[int, int, int]:
    with db.transaction() as s:
        add_customer(s, "C1", "Acme GmbH", ("DE02100100100006820101",))
        add_item(s, "INV-1", "C1", "100.00")
        add_item(s, "INV-2", "C1", "100.00")
        tx = add_payment(s, "100.00", name="Acme Subsidiary Ltd", iban="GB33BUKB20201555555555")
        first = add_proposal(s, tx, [("INV-1", "100.00")], rank=1)
        second = add_proposal(s, tx, [("INV-2", "100.00")], rank=2)
    return tx, first, second


def proposal_states(db: Database) -> list[str]:
    with db.session() as s:
        return list(s.scalars(select(ProposalRow.state).order_by(ProposalRow.rank)))


def test_accept_applies_manually_and_learns_the_payer(db: Database) -> None:
    tx, first, _ = setup(db)
    with db.transaction() as s:
        app = accept_proposal(s, first, actor="user:alice")
    with db.session() as s:
        row = s.get(ApplicationRow, app)
        assert row is not None
        assert (row.status, row.actor, row.proposed_by) == ("manual", "user:alice",
                                                            "matcher:fuzzy_name")
        evidence = list_evidence(s, "C1")
    assert proposal_states(db) == ["accepted", "superseded"]
    assert {(e.kind, e.value) for e in evidence} == {("iban", "GB33BUKB20201555555555"),
                                                    ("name", "acme subsidiary")}
    assert all(e.created_by == "user:alice" and e.source_transaction_id == tx for e in evidence)
    with pytest.raises(ConflictError), db.transaction() as s:
        accept_proposal(s, first, actor="user:bob")


def test_removing_evidence_deactivates_and_journals(db: Database) -> None:
    _, first, _ = setup(db)
    with db.transaction() as s:
        accept_proposal(s, first, actor="user:alice")
    with db.session() as s:
        evidence = list_evidence(s)
    with db.transaction() as s:
        remove_evidence(s, evidence[0].id, actor="user:bob", reason="shared account")
    with db.session() as s:
        assert [e.id for e in list_evidence(s)] == [evidence[1].id]
        assert len(list_evidence(s, include_inactive=True)) == 2
        assert journal.verify(s).ok
    with pytest.raises(ConflictError), db.transaction() as s:
        remove_evidence(s, evidence[0].id, actor="user:bob")
    with pytest.raises(NotFoundError), db.transaction() as s:
        remove_evidence(s, 999, actor="user:bob")


def test_reversal_forgets_what_the_decision_taught(db: Database) -> None:
    _, first, _ = setup(db)
    with db.transaction() as s:
        app = accept_proposal(s, first, actor="user:alice")
    with db.transaction() as s:
        reverse_application(s, app, actor="user:bob", reason="wrong customer")
    with db.session() as s:
        assert list_evidence(s) == []


def test_reject_keeps_the_line_for_review_until_nothing_is_left(db: Database) -> None:
    tx, first, second = setup(db)
    with db.transaction() as s:
        reject_proposal(s, first, actor="user:alice", reason="different invoice")
    with db.session() as s:
        assert s.get(TransactionRow, tx).state == "suggested"  # type: ignore[union-attr]
    with db.transaction() as s:
        reject_proposal(s, second, actor="user:alice", reason="not this one either")
    with db.session() as s:
        assert s.get(TransactionRow, tx).state == "unmatched"  # type: ignore[union-attr]
    assert proposal_states(db) == ["rejected", "rejected"]
    with pytest.raises(ConflictError), db.transaction() as s:
        accept_proposal(s, first, actor="user:alice")
