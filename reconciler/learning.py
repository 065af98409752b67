"""Learning from staff decisions: payer IBAN and name -> customer.

When a reviewer confirms or corrects a match, the payer's IBAN and normalised name become
evidence for that customer. The next matcher run reads the active evidence as learned links,
so a subsidiary paying from an account the ERP does not know is recognised next time. Every
row says who taught it and from which bank line; removing one deactivates it (journaled),
so the audit trail keeps what the engine believed and when.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from matchers.text import normalise_name as normalize_name
from reconciler import journal
from reconciler.db.bank import TransactionRow
from reconciler.db.ledger import CustomerIbanRow, CustomerRow
from reconciler.db.matching import LearnedEvidenceRow
from reconciler.errors import ConflictError, NotFoundError
from reconciler.iban import normalize_iban


@dataclass(frozen=True, slots=True)
class LearnedEvidence:
    id: int
    kind: str  # iban | name
    value: str  # normalised
    customer_id: str
    source_transaction_id: int | None
    created_by: str
    created_at: dt.datetime
    active: bool


def learn_from_decision(session: Session, transaction_id: int, customer_id: str, *,
                        actor: str) -> list[int]:
    """Record the payer of `transaction_id` as evidence for `customer_id`; returns new ids.

    Nothing is learned that the master data already says (the customer's own IBANs, its own
    name): evidence is only what staff added to it.
    """
    transaction = session.get(TransactionRow, transaction_id)
    customer = session.scalar(select(CustomerRow).where(CustomerRow.customer_id == customer_id))
    if transaction is None or customer is None:
        return []
    known_ibans = set(session.scalars(
        select(CustomerIbanRow.iban).where(CustomerIbanRow.customer_pk == customer.id)))
    facts: list[tuple[str, str]] = []
    if transaction.counterparty_iban:
        iban = normalize_iban(transaction.counterparty_iban)
        if iban and iban not in {normalize_iban(i) for i in known_ibans}:
            facts.append(("iban", iban))
    if transaction.counterparty_name:
        name = normalize_name(transaction.counterparty_name)
        if name and name != normalize_name(customer.name):
            facts.append(("name", name[:200]))
    created: list[int] = []
    for kind, value in facts:
        row = session.scalar(select(LearnedEvidenceRow).where(
            LearnedEvidenceRow.kind == kind, LearnedEvidenceRow.value == value,
            LearnedEvidenceRow.customer_id == customer_id))
        if row is not None and row.active:
            continue
        if row is None:
            row = LearnedEvidenceRow(kind=kind, value=value, customer_id=customer_id,
                                     source_transaction_id=transaction_id, created_by=actor)
            session.add(row)
        else:  # taught again after a removal: the newer decision wins
            row.active, row.created_by = True, actor
            row.source_transaction_id = transaction_id
        session.flush()
        journal.record(session, actor=actor, action="evidence.learned",
                       subject=f"customer:{customer_id}", reason=f"confirmed on payment "
                       f"{transaction_id}", data={"evidence_id": row.id, "kind": kind,
                                                  "value": value})
        created.append(row.id)
    return created


def forget_from_transaction(session: Session, transaction_id: int, *, actor: str) -> None:
    """A reversed decision teaches nothing: deactivate what it taught."""
    rows = session.scalars(select(LearnedEvidenceRow).where(
        LearnedEvidenceRow.source_transaction_id == transaction_id,
        LearnedEvidenceRow.active.is_(True))).all()
    for row in rows:
        row.active = False
        journal.record(session, actor=actor, action="evidence.removed",
                       subject=f"customer:{row.customer_id}",
                       reason=f"decision on payment {transaction_id} reversed",
                       data={"evidence_id": row.id, "kind": row.kind, "value": row.value})


def list_evidence(session: Session, customer_id: str | None = None, *,
                  include_inactive: bool = False) -> list[LearnedEvidence]:
    query = select(LearnedEvidenceRow).order_by(LearnedEvidenceRow.id)
    if customer_id is not None:
        query = query.where(LearnedEvidenceRow.customer_id == customer_id)
    if not include_inactive:
        query = query.where(LearnedEvidenceRow.active.is_(True))
    return [LearnedEvidence(r.id, r.kind, r.value, r.customer_id, r.source_transaction_id,
                            r.created_by, r.created_at, r.active)
            for r in session.scalars(query)]


def remove_evidence(session: Session, evidence_id: int, *, actor: str,
                    reason: str = "") -> None:
    row = session.execute(select(LearnedEvidenceRow).where(LearnedEvidenceRow.id == evidence_id)
                          .with_for_update()).scalar_one_or_none()
    if row is None:
        raise NotFoundError(f"learned evidence {evidence_id} does not exist")
    if not row.active:
        raise ConflictError(f"learned evidence {evidence_id} is already removed")
    row.active = False
    journal.record(session, actor=actor, action="evidence.removed",
                   subject=f"customer:{row.customer_id}", reason=reason,
                   data={"evidence_id": row.id, "kind": row.kind, "value": row.value})
    session.flush()


def active_links(session: Session) -> list[tuple[str, str, str]]:
    """(kind, value, customer_id) of every active piece of evidence, for the candidate view."""
    rows = session.execute(select(LearnedEvidenceRow.kind, LearnedEvidenceRow.value,
                                  LearnedEvidenceRow.customer_id)
                           .where(LearnedEvidenceRow.active.is_(True))
                           .order_by(LearnedEvidenceRow.id))
    return [(kind, value, customer_id) for kind, value, customer_id in rows]
