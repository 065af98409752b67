"""Receivables master data: customers and open items (invoices, credit notes)."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from decimal import Decimal

from reconciler.domain.pickling import pickled_by_fields
from reconciler.money import ZERO


class DocumentType(enum.StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class ItemStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"  # fully settled, here or in the ERP
    DISPUTED = "disputed"  # kept out of matching and dunning until the dispute is resolved


@dataclass(frozen=True, slots=True)
class PaymentTerms:
    """'2/10NET30': 2 % cash discount if paid within 10 days, net due in 30 days."""

    net_days: int
    discount_rate: Decimal = ZERO
    discount_days: int = 0

    @property
    def code(self) -> str:
        if self.discount_rate:
            pct = (self.discount_rate * 100).normalize()
            return f"{pct:f}/{self.discount_days}NET{self.net_days}"
        return f"NET{self.net_days}"


@dataclass(frozen=True, slots=True)
class Customer:
    customer_id: str
    name: str
    ibans: tuple[str, ...] = ()
    parent_customer_id: str | None = None
    segment: str | None = None
    country: str | None = None
    payment_terms: PaymentTerms | None = None
    email: str | None = None
    credit_limit: Decimal | None = None
    currency: str | None = None
    language: str | None = None  # for dunning letters; defaults from country


@dataclass(frozen=True, slots=True)
class OpenItem:
    """An invoice or credit note as the ERP exports it; key: (entity, document_number)."""

    entity: str
    document_number: str
    document_type: DocumentType
    customer_id: str
    currency: str
    amount: Decimal
    open_amount: Decimal
    issue_date: dt.date
    due_date: dt.date
    payment_reference: str | None = None
    discount_rate: Decimal | None = None
    discount_due_date: dt.date | None = None
    status: ItemStatus = ItemStatus.OPEN

    @property
    def key(self) -> ItemKey:
        return ItemKey(self.entity, self.document_number)

    def discount_on(self, paid_on: dt.date) -> Decimal:
        """Cash discount the customer may take when paying on `paid_on` (zero if late)."""
        if not self.discount_rate or self.discount_due_date is None:
            return ZERO
        if paid_on > self.discount_due_date or self.open_amount <= ZERO:
            return ZERO
        return self.open_amount * self.discount_rate


@pickled_by_fields
@dataclass(frozen=True, slots=True, order=True)
class ItemKey:
    entity: str
    document_number: str

    def __str__(self) -> str:
        return f"{self.entity}/{self.document_number}"
