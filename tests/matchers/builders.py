"""Small builders in the domain's notation: `item("INV-1", "100.00", customer="C1")`,
`pay("98.00", text="INV-1")`, `customer("C1", "Acme GmbH", "DE89...")`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from matchers.candidates import CandidateView, LearnedLink
from reconciler.domain import Customer, DocumentType, ItemStatus, OpenItem, Payment, Proposal
from reconciler.money import money
from reconciler.settings import MatchingSettings

TODAY = dt.date(2026, 11, 20)
SETTINGS = MatchingSettings()
IBAN_C1 = "DE89370400440532013000"
IBAN_C2 = "DE02120300000000202051"
IBAN_UNKNOWN = "DE44500105175407324931"


def item(document: str, amount: str, customer: str = "C1", *, open_amount: str | None = None,
         currency: str = "EUR", issued: dt.date | None = None, due: dt.date | None = None,
         reference: str | None = None, discount: str | None = None,
         discount_until: dt.date | None = None, status: ItemStatus = ItemStatus.OPEN,
         entity: str = "MAIN") -> OpenItem:
    value = money(amount)
    issue_date = issued or TODAY - dt.timedelta(days=20)
    return OpenItem(
        entity=entity, document_number=document,
        document_type=DocumentType.CREDIT_NOTE if value < 0 else DocumentType.INVOICE,
        customer_id=customer, currency=currency, amount=value,
        open_amount=money(open_amount) if open_amount is not None else value,
        issue_date=issue_date, due_date=due or issue_date + dt.timedelta(days=30),
        payment_reference=reference, discount_rate=money(discount) if discount else None,
        discount_due_date=discount_until, status=status)


def customer(customer_id: str, name: str, *ibans: str, parent: str | None = None) -> Customer:
    return Customer(customer_id=customer_id, name=name, ibans=tuple(ibans),
                    parent_customer_id=parent)


def pay(amount: str, text: str | None = None, *, iban: str | None = None,
        name: str | None = None, reference: str | None = None, e2e: str | None = None,
        currency: str = "EUR", on: dt.date = TODAY, payment_id: int = 1) -> Payment:
    return Payment(id=payment_id, amount=money(amount), currency=currency, value_date=on,
                   counterparty_name=name, counterparty_iban=iban, creditor_reference=reference,
                   remittance_text=text, end_to_end_id=e2e)


def view(customers: Iterable[Customer] = (), items: Iterable[OpenItem] = (),
         learned: Iterable[LearnedLink] = (), closed: Iterable[OpenItem] = ()) -> CandidateView:
    return CandidateView.build(customers, items, learned, closed)


def default_customers() -> list[Customer]:
    return [customer("C1", "Acme Handels GmbH", IBAN_C1),
            customer("C2", "Müller Bau GmbH & Co. KG", IBAN_C2),
            customer("C3", "Nordlicht Logistik AG")]


def documents(proposal: Proposal) -> set[str]:
    return {a.item.document_number for a in proposal.allocations}


def best(proposals: Sequence[Proposal]) -> Proposal:
    assert proposals, "expected at least one proposal"
    return max(proposals, key=lambda p: p.confidence)
