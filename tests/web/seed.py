"""Test data for the web tests: a statement with credits, customers, open items, proposals.

Rows are written with the ORM directly: these are fixtures, the services under test are the
ones the web layer calls.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from reconciler.db.bank import BankFileRow, StatementRow, TransactionRow
from reconciler.db.ledger import CustomerIbanRow, CustomerRow, OpenItemRow
from reconciler.db.matching import ProposalRow
from reconciler.db.session import Database
from reconciler.db.users import UserRow
from reconciler.money import money
from reconciler.users import hash_password

PASSWORD = "correct horse battery"
ROLE_USERS = {"viewer": "vera", "reviewer": "rita", "approver": "arno", "admin": "ada"}
_HASH: list[str] = []


def password_hash() -> str:
    if not _HASH:
        _HASH.append(hash_password(PASSWORD))
    return _HASH[0]


def add_users(db: Database) -> None:
    with db.transaction() as s:
        for role, name in ROLE_USERS.items():
            s.add(UserRow(name=name, role=role, password_hash=password_hash(), active=True))
        s.add(UserRow(name="rolf", role="reviewer", password_hash=password_hash(), active=True))


@dataclass(frozen=True, slots=True)
class Seeded:
    statement_id: int
    tx_exact: int  # 1190.00 from ACME, proposal for INV-1 (rank 1) and INV-2 (rank 2)
    tx_short: int  # 495.00 from Beta, proposal INV-3 (500.00) with a 5.00 bank charge
    tx_unmatched: int  # 300.00, nobody knows
    proposal_exact: int
    proposal_alt: int
    proposal_short: int
    item_ids: dict[str, int]


def seed(db: Database, *, today: dt.date | None = None) -> Seeded:
    today = today or dt.date(2026, 11, 20)
    with db.transaction() as s:
        file = BankFileRow(sha256="a" * 64, filename="stmt-2026-11-20.xml", source=None,
                           format="camt.053.001.08", size=1234, content=b"<xml/>",
                           status="imported", diagnostics=[])
        s.add(file)
        s.flush()
        statement = StatementRow(file_id=file.id, kind="statement",
                                 account="DE89370400440532013000", currency="EUR",
                                 statement_id="2026-11-20", sequence="321",
                                 opening_balance=money("1000.00"),
                                 closing_balance=money("2985.00"),
                                 opening_date=today, closing_date=today, balance_ok=True)
        s.add(statement)
        s.flush()
        for cid, name, iban in (("C001", "ACME Trading GmbH", "DE02100100100006820101"),
                                ("C002", "Beta Logistics SARL", "FR7630006000011234567890189")):
            customer = CustomerRow(customer_id=cid, name=name, normalized_name=name.lower())
            customer.ibans.append(CustomerIbanRow(iban=iban))
            s.add(customer)
        items = {}
        for doc, cid, amount, due in (("INV-1", "C001", "1190.00", today - dt.timedelta(days=5)),
                                      ("INV-2", "C001", "1190.00", today + dt.timedelta(days=10)),
                                      ("INV-3", "C002", "500.00", today - dt.timedelta(days=40)),
                                      ("INV-4", "C002", "250.00", today + dt.timedelta(days=3))):
            row = OpenItemRow(entity="MAIN", document_number=doc, document_type="invoice",
                              customer_id=cid, currency="EUR", amount=money(amount),
                              open_amount=money(amount), erp_open_amount=money(amount),
                              issue_date=due - dt.timedelta(days=30), due_date=due,
                              payment_reference=f"RF18{doc[-1]}", status="open")
            s.add(row)
            s.flush()
            items[doc] = row.id

        def tx(position: int, amount: str, name: str, iban: str, text: str, state: str
               ) -> TransactionRow:
            row = TransactionRow(statement_id=statement.id, position=position,
                                 account=statement.account, amount=money(amount), currency="EUR",
                                 booking_date=today, value_date=today,
                                 bank_reference=f"REF{position:04d}", counterparty_name=name,
                                 counterparty_iban=iban, remittance_text=text, state=state,
                                 details={"gvc": "166"}, raw=f":61:{position} raw line")
            s.add(row)
            s.flush()
            return row

        exact = tx(1, "1190.00", "ACME TRADING", "DE02100100100006820101", "INV-1", "suggested")
        short = tx(2, "495.00", "BETA LOGISTICS", "FR7630006000011234567890189", "INV-3",
                   "suggested")
        unmatched = tx(3, "300.00", "UNKNOWN PAYER", "GB29NWBK60161331926819", "thanks",
                       "unmatched")

        def proposal(tx_row: TransactionRow, rank: int, doc: str, amount: str,
                     adjustments: list[dict[str, str]], confidence: float, cid: str
                     ) -> ProposalRow:
            row = ProposalRow(transaction_id=tx_row.id, run_id=1, rank=rank, matcher="reference",
                              customer_id=cid, confidence=confidence, decision="suggest",
                              allocations=[{"entity": "MAIN", "document_number": doc,
                                            "amount": amount, "discount": "0"}],
                              adjustments=adjustments, evidence=[],
                              explanation=f"reference {doc} found in the remittance text",
                              state="pending")
            s.add(row)
            s.flush()
            return row

        p_exact = proposal(exact, 1, "INV-1", "1190.00", [], 0.91, "C001")
        p_alt = proposal(exact, 2, "INV-2", "1190.00", [], 0.55, "C001")
        p_short = proposal(short, 1, "INV-3", "495.00", [], 0.80, "C002")
        # 495 settles 495 of INV-3's 500: a partial payment as proposed.
    return Seeded(statement_id=statement.id, tx_exact=exact.id, tx_short=short.id,
                  tx_unmatched=unmatched.id, proposal_exact=p_exact.id, proposal_alt=p_alt.id,
                  proposal_short=p_short.id, item_ids=items)
