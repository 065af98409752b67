"""Small builders for collections tests: rows written straight into the ledger tables."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy.orm import Session

from reconciler.db.bank import BankFileRow, StatementRow, TransactionRow
from reconciler.db.ledger import CustomerIbanRow, CustomerRow, OpenItemRow
from reconciler.db.matching import ApplicationLineRow, ApplicationRow

D = Decimal


def customer(session: Session, customer_id: str, *, segment: str | None = None,
             email: str | None = None, country: str = "DE", language: str | None = None,
             credit_limit: str | None = None, ibans: tuple[str, ...] = ()) -> CustomerRow:
    row = CustomerRow(customer_id=customer_id, name=f"{customer_id} GmbH",
                      normalized_name=customer_id.lower(), segment=segment, email=email,
                      country=country, language=language, currency="EUR",
                      credit_limit=D(credit_limit) if credit_limit else None,
                      ibans=[CustomerIbanRow(iban=i) for i in ibans])
    session.add(row)
    session.flush()
    return row


def item(session: Session, document_number: str, customer_id: str, amount: str, *,
         due: dt.date, issued: dt.date | None = None, open_amount: str | None = None,
         document_type: str = "invoice", entity: str = "MAIN",
         reference: str | None = None) -> OpenItemRow:
    open_value = D(open_amount if open_amount is not None else amount)
    row = OpenItemRow(entity=entity, document_number=document_number,
                      document_type=document_type, customer_id=customer_id, currency="EUR",
                      amount=D(amount), open_amount=open_value, erp_open_amount=D(amount),
                      issue_date=issued or due - dt.timedelta(days=30), due_date=due,
                      payment_reference=reference,
                      status="open" if open_value != 0 else "closed")
    session.add(row)
    session.flush()
    return row


_statement: dict[int, int] = {}


def transaction(session: Session, amount: str, *, value_date: dt.date, state: str = "applied",
                iban: str | None = None, ref: str | None = None) -> TransactionRow:
    key = id(session.bind)
    if key not in _statement or session.get(StatementRow, _statement[key]) is None:
        file = BankFileRow(sha256=f"{len(_statement):064d}", filename="t.xml", size=1,
                           content=b"x", status="imported")
        session.add(file)
        session.flush()
        stmt = StatementRow(file_id=file.id, kind="statement", account="DE00TEST",
                            currency="EUR", statement_id="S1", sequence="1")
        session.add(stmt)
        session.flush()
        _statement[key] = stmt.id
    row = TransactionRow(statement_id=_statement[key], position=0, account="DE00TEST",
                         amount=D(amount), currency="EUR", booking_date=value_date,
                         value_date=value_date, bank_reference=ref or f"T{amount}{value_date}",
                         counterparty_iban=iban, state=state)
    session.add(row)
    session.flush()
    return row


def apply(session: Session, tx: TransactionRow, customer_id: str,
          lines: list[tuple[str, OpenItemRow | None, str]], *, status: str = "auto"
          ) -> ApplicationRow:
    """Record an application directly: lines are (kind, item, amount)."""
    application = ApplicationRow(transaction_id=tx.id, customer_id=customer_id, status=status,
                                 actor="test", matcher="test")
    for kind, target, amount in lines:
        item_id = target.id if target else None
        application.lines.append(ApplicationLineRow(kind=kind, item_id=item_id, amount=D(amount)))
        if target is not None and kind in ("item", "discount"):
            target.open_amount -= D(amount)
            if target.open_amount == 0:
                target.status = "closed"
    session.add(application)
    session.flush()
    return application
