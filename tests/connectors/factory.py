"""Rows a test needs before postings exist: a received payment, open items, applications.

Written directly as the matching engine would store them, so these tests do not depend on
the engine's own API.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

from reconciler.db.bank import BankFileRow, StatementRow, TransactionRow
from reconciler.db.ledger import OpenItemRow
from reconciler.db.matching import ApplicationLineRow, ApplicationRow
from reconciler.db.session import Database

DAY = dt.date(2026, 11, 20)


def payment_with_items(db: Database, amount: str = "1965.00", tag: str = "1") -> dict[str, int]:
    """A credit of 1965.00 and two invoices of 1000.00 for customer C1."""
    with db.transaction() as session:
        data = f"statement {tag}".encode()
        file = BankFileRow(sha256=hashlib.sha256(data).hexdigest(), filename=f"s{tag}.xml",
                           size=len(data), content=data, status="imported", diagnostics=[])
        session.add(file)
        session.flush()
        statement = StatementRow(file_id=file.id, kind="statement",
                                 account="DE89370400440532013000", currency="EUR",
                                 statement_id=f"ST{tag}", sequence="1")
        session.add(statement)
        session.flush()
        tx = TransactionRow(statement_id=statement.id, position=1, account=statement.account,
                            amount=Decimal(amount), currency="EUR", booking_date=DAY,
                            value_date=DAY, bank_reference=f"BREF-{tag}",
                            counterparty_name="ACME GmbH", details={})
        session.add(tx)
        ids = {"transaction": 0}
        for n in (1, 2):
            item = OpenItemRow(entity="MAIN", document_number=f"INV-{tag}-{n}",
                               document_type="invoice", customer_id="C1", currency="EUR",
                               amount=Decimal("1000.00"), open_amount=Decimal("1000.00"),
                               erp_open_amount=Decimal("1000.00"), issue_date=DAY,
                               due_date=DAY + dt.timedelta(days=30))
            session.add(item)
            session.flush()
            ids[f"item{n}"] = item.id
        session.flush()
        ids["transaction"] = tx.id
        return ids


def apply(db: Database, ids: dict[str, int]) -> int:
    """Invoice 1 paid with 2 % discount (980 + 20), invoice 2 in full, 15.00 bank charges."""
    lines = [("item", ids["item1"], "980.00"), ("discount", ids["item1"], "20.00"),
             ("item", ids["item2"], "1000.00"), ("bank_charge", None, "-15.00")]
    return _application(db, ids["transaction"], lines, None)


def reverse(db: Database, application_id: int) -> int:
    with db.transaction() as session:
        original = session.get(ApplicationRow, application_id)
        assert original is not None
        lines = [(ln.kind, ln.item_id, str(-ln.amount)) for ln in original.lines]
        transaction_id = original.transaction_id
    return _application(db, transaction_id, lines, application_id)


def _application(db: Database, transaction_id: int, lines: list[tuple[str, int | None, str]],
                 reverses: int | None) -> int:
    with db.transaction() as session:
        application = ApplicationRow(transaction_id=transaction_id, customer_id="C1",
                                     status="manual", actor="user:alice",
                                     reverses_id=reverses)
        application.lines = [ApplicationLineRow(kind=k, item_id=i, amount=Decimal(a), reason="")
                              for k, i, a in lines]
        session.add(application)
        session.flush()
        if reverses is not None:
            original = session.get(ApplicationRow, reverses)
            assert original is not None
            original.reversed_by_id = application.id
        return application.id
