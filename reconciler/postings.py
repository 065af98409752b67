"""Posted cash entries: the journal lines the ERP books for each application and reversal.

Every application (and every reversal, which is an application with opposite-signed lines)
becomes one balanced entry, numbered by a gap-free sequence in the order applications were
made. Postings are derived here from the applications table, so applying a payment needs no
call into this module; the outbox job runs `derive_postings` before it delivers.

Lines, with the signs of the application lines as the engine writes them (cash lines add up
to the payment; a discount settles an item without cash):

    bank            debit   the cash received (item + bank_charge + write_off + unapplied)
    receivable      credit  per item: cash applied plus discount granted on that item
    discount        debit   cash discount taken inside the payment terms
    bank_charges    debit   charges an intermediary bank deducted from the credit
    write_off       debit   small short payment written off under the limit
    unapplied_cash  credit  overpayment kept on the customer's account

A reversal produces the same lines with debit and credit swapped.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from reconciler import journal
from reconciler.db.bank import TransactionRow
from reconciler.db.ledger import OpenItemRow
from reconciler.db.matching import ApplicationLineRow, ApplicationRow
from reconciler.db.outbox import PostingRow
from reconciler.errors import IntegrityError
from reconciler.money import ZERO, format_amount, quantize

ACTOR = "system:postings"


def derive_postings(session: Session, *, limit: int = 1000) -> list[PostingRow]:
    """Create the postings of applications that have none yet, in application id order."""
    pending = session.scalars(
        select(ApplicationRow)
        .outerjoin(PostingRow, PostingRow.application_id == ApplicationRow.id)
        .where(PostingRow.id.is_(None))
        .order_by(ApplicationRow.id).limit(limit)
        .options(selectinload(ApplicationRow.lines))
    ).all()
    if not pending:
        return []
    # Load the transactions (into the session) and the items once for the whole batch.
    session.scalars(select(TransactionRow).where(
        TransactionRow.id.in_({a.transaction_id for a in pending}))).all()
    items = {item.id: item for item in session.scalars(select(OpenItemRow).where(
        OpenItemRow.id.in_({ln.item_id for a in pending for ln in a.lines if ln.item_id})))}
    last = session.scalar(select(func.max(PostingRow.sequence))) or 0
    created: list[PostingRow] = []
    for application in pending:
        last += 1
        posting = _posting(session, application, last, items)
        session.add(posting)
        journal.record(session, actor=ACTOR, action="posting.created",
                       subject=f"posting:{posting.sequence}",
                       reason=f"{posting.kind} {application.id}",
                       data={"posting_id": posting.posting_id,
                             "application_id": application.id})
        created.append(posting)
    return created


def _posting(session: Session, application: ApplicationRow, sequence: int,
             items: dict[int, OpenItemRow]) -> PostingRow:
    transaction = session.get(TransactionRow, application.transaction_id)
    assert transaction is not None  # a foreign key guarantees it
    currency = transaction.currency
    reverses_sequence = None
    if application.reverses_id is not None:
        reverses_sequence = session.scalar(select(PostingRow.sequence).where(
            PostingRow.application_id == application.reverses_id))
    posting_id = str(uuid.uuid4())
    payload: dict[str, Any] = {
        "posting_id": posting_id,
        "sequence": sequence,
        "kind": "reversal" if application.reverses_id else "application",
        "application_id": application.id,
        "reverses_application_id": application.reverses_id,
        "reverses_sequence": reverses_sequence,
        "customer_id": application.customer_id,
        "status": application.status,
        "actor": application.actor,
        "applied_at": application.applied_at.isoformat(),
        "currency": currency,
        "transaction": {
            "id": transaction.id,
            "bank_reference": transaction.bank_reference,
            "account": transaction.account,
            "amount": format_amount(transaction.amount, currency),
            "booking_date": _iso(transaction.booking_date),
            "value_date": _iso(transaction.value_date),
            "end_to_end_id": transaction.end_to_end_id,
            "counterparty_name": transaction.counterparty_name,
        },
        "lines": journal_lines(application.lines, items, application.customer_id, currency),
    }
    return PostingRow(sequence=sequence, posting_id=posting_id, application_id=application.id,
                      kind=payload["kind"], reverses_sequence=reverses_sequence,
                      transaction_id=transaction.id, customer_id=application.customer_id,
                      currency=currency, payload=payload)


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def journal_lines(lines: list[ApplicationLineRow], items: dict[int, OpenItemRow],
                  customer_id: str | None, currency: str) -> list[dict[str, Any]]:
    """Balanced debit/credit lines. Signed internally: positive debit, negative credit."""
    cash = sum((ln.amount for ln in lines if ln.kind != "discount"), ZERO)
    receivable: dict[int | None, Decimal] = defaultdict(lambda: ZERO)
    signed: list[tuple[str, Decimal, int | None, str]] = [("bank", cash, None, "")]
    for ln in lines:
        if ln.kind in ("item", "discount"):
            receivable[ln.item_id] -= ln.amount
        if ln.kind == "discount":
            signed.append(("discount", ln.amount, ln.item_id, ln.reason))
        elif ln.kind == "bank_charge":
            signed.append(("bank_charges", -ln.amount, None, ln.reason))
        elif ln.kind == "write_off":
            signed.append(("write_off", -ln.amount, None, ln.reason))
        elif ln.kind == "unapplied":
            signed.append(("unapplied_cash", -ln.amount, None, ln.reason))
    receivable_lines = [("receivable", amount, item_id, "")
                        for item_id, amount in receivable.items()]
    ordered = signed[:1] + receivable_lines + signed[1:]
    total = sum((amount for _, amount, _, _ in ordered), ZERO)
    if total != ZERO:  # the engine's invariant broke; never send the ERP an unbalanced entry
        raise IntegrityError(f"application lines do not balance: off by {total}")
    result: list[dict[str, Any]] = []
    for account, amount, item_id, reason in ordered:
        if amount == ZERO:
            continue
        item = items.get(item_id) if item_id is not None else None
        result.append({
            "line": len(result) + 1,
            "account": account,
            "side": "debit" if amount > ZERO else "credit",
            "amount": format_amount(quantize(abs(amount), currency), currency),
            "customer_id": customer_id if account in ("receivable", "unapplied_cash") else None,
            "entity": item.entity if item else None,
            "document_number": item.document_number if item else None,
            "reason": reason,
        })
    return result
