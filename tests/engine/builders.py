"""Small ledgers and bank lines written straight into the database for engine tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reconciler.db.bank import BankFileRow, StatementRow, TransactionRow
from reconciler.db.ledger import CustomerIbanRow, CustomerRow, OpenItemRow
from reconciler.money import money

TODAY = dt.date(2026, 11, 20)


def add_customer(session: Session, customer_id: str, name: str,
                 ibans: tuple[str, ...] = ()) -> CustomerRow:
    row = CustomerRow(customer_id=customer_id, name=name, normalized_name=name.lower())
    row.ibans = [CustomerIbanRow(iban=iban) for iban in ibans]
    session.add(row)
    session.flush()
    return row


def add_item(session: Session, document_number: str, customer_id: str, amount: str, *,
             open_amount: str | None = None, entity: str = "MAIN", currency: str = "EUR",
             payment_reference: str | None = None, discount_rate: str | None = None,
             discount_due_date: dt.date | None = None, status: str = "open",
             due_date: dt.date = TODAY) -> OpenItemRow:
    value = money(amount)
    still_open = money(open_amount) if open_amount is not None else value
    row = OpenItemRow(
        entity=entity, document_number=document_number,
        document_type="credit_note" if value < 0 else "invoice", customer_id=customer_id,
        currency=currency, amount=value, open_amount=still_open, erp_open_amount=still_open,
        issue_date=due_date - dt.timedelta(days=30), due_date=due_date,
        payment_reference=payment_reference,
        discount_rate=Decimal(discount_rate) if discount_rate else None,
        discount_due_date=discount_due_date, status=status)
    session.add(row)
    session.flush()
    return row


def _statement(session: Session) -> StatementRow:
    statement = session.scalar(select(StatementRow).where(StatementRow.statement_id == "TEST"))
    if statement is not None:
        return statement
    file = BankFileRow(sha256="0" * 64, filename="test.sta", source=None, format="mt940",
                       size=0, content=b"", status="imported")
    session.add(file)
    session.flush()
    statement = StatementRow(file_id=file.id, kind="statement", account="DE00TEST",
                             currency="EUR", statement_id="TEST", sequence="1",
                             opening_balance=None, closing_balance=None,
                             opening_date=TODAY, closing_date=TODAY)
    session.add(statement)
    session.flush()
    return statement


def add_payment(session: Session, amount: str, *, name: str | None = None,
                iban: str | None = None, text: str | None = None,
                creditor_reference: str | None = None, bank_reference: str | None = None,
                currency: str = "EUR", value_date: dt.date = TODAY,
                state: str = "unreconciled") -> int:
    statement = _statement(session)
    position = (session.scalar(select(func.count()).select_from(TransactionRow)) or 0) + 1
    row = TransactionRow(
        statement_id=statement.id, position=position, account="DE00TEST", amount=money(amount),
        currency=currency, booking_date=value_date, value_date=value_date,
        bank_reference=bank_reference or f"REF{position:05d}", counterparty_name=name,
        counterparty_iban=iban, creditor_reference=creditor_reference, remittance_text=text,
        state=state, details={})
    session.add(row)
    session.flush()
    return row.id


def add_proposal(session: Session, transaction_id: int, allocations: list[tuple[str, str]], *,
                 rank: int = 1, customer_id: str = "C1", matcher: str = "fuzzy_name",
                 confidence: float = 0.7, run_id: int = 1) -> int:
    from reconciler.db.matching import ProposalRow

    row = ProposalRow(
        transaction_id=transaction_id, run_id=run_id, rank=rank, matcher=matcher,
        customer_id=customer_id, confidence=confidence, decision="suggest",
        allocations=[{"entity": "MAIN", "document_number": d, "amount": a, "discount": "0"}
                     for d, a in allocations],
        adjustments=[], evidence=[], explanation=f"{matcher} thinks so", state="pending")
    session.add(row)
    transaction = session.get(TransactionRow, transaction_id)
    assert transaction is not None
    transaction.state = "suggested"
    session.flush()
    return row.id
