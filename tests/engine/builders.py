"""Small ledgers and bank lines written straight into the database for engine tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from reconciler.db.bank import BankFileRow, StatementRow, TransactionRow
from reconciler.db.ledger import CustomerIbanRow, CustomerRow, OpenItemRow
from reconciler.db.session import Database
from reconciler.demo import GeneratedPayment
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


def insert_payments(db: Database, payments: Sequence[GeneratedPayment]) -> None:
    """Generated demo transactions straight into the tables (one statement per day)."""
    with db.transaction() as session:
        file = BankFileRow(sha256="b" * 64, filename="benchmark", source=None, format="camt.053",
                           size=0, content=b"", status="imported")
        session.add(file)
        session.flush()
        statements: dict[object, int] = {}
        for day in sorted({p.booking_date for p in payments}):
            row = StatementRow(file_id=file.id, kind="statement", account="DEMO",
                               currency="EUR", statement_id=f"{day:%Y%m%d}", sequence="1",
                               opening_balance=None, closing_balance=None, opening_date=day,
                               closing_date=day)
            session.add(row)
            session.flush()
            statements[day] = row.id
        rows: list[dict[str, object]] = [{
            "statement_id": statements[p.booking_date], "position": n, "account": "DEMO",
            "amount": p.amount, "currency": p.currency, "booking_date": p.booking_date,
            "value_date": p.value_date, "bank_reference": p.bank_reference,
            "end_to_end_id": p.end_to_end_id, "entry_reference": p.entry_id,
            "counterparty_name": p.counterparty_name, "counterparty_iban": p.counterparty_iban,
            "counterparty_bic": p.counterparty_bic, "creditor_reference": p.creditor_reference,
            "remittance_text": p.remittance_text,
            "bank_transaction_code": p.bank_transaction_code, "entry_status": "booked",
            "charges_amount": p.charges, "is_reversal": False, "details": {},
            "state": "unreconciled"} for n, p in enumerate(payments)]
        for start in range(0, len(rows), 5000):
            session.execute(insert(TransactionRow), rows[start:start + 5000])
