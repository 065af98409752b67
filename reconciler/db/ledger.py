"""Receivables master data as the ERP sends it: customers, their IBANs, open items."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reconciler.db.base import Base, Money, Rate, UTCDateTime, partial_index, utcnow


class CustomerRow(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    normalized_name: Mapped[str] = mapped_column(String(200), index=True)
    parent_customer_id: Mapped[str | None] = mapped_column(String(64), index=True)
    segment: Mapped[str | None] = mapped_column(String(40))
    country: Mapped[str | None] = mapped_column(String(2))
    payment_terms: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(200))
    credit_limit: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str | None] = mapped_column(String(3))
    language: Mapped[str | None] = mapped_column(String(5))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    ibans: Mapped[list[CustomerIbanRow]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="CustomerIbanRow.iban"
    )


class CustomerIbanRow(Base):
    """An IBAN the customer pays from, as given by the ERP master data."""

    __tablename__ = "customer_ibans"
    __table_args__ = (UniqueConstraint("customer_pk", "iban"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_pk: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    iban: Mapped[str] = mapped_column(String(34), index=True)

    customer: Mapped[CustomerRow] = relationship(back_populates="ibans")


class OpenItemRow(Base):
    """An invoice or credit note. `open_amount` is kept equal to amount - live applications."""

    __tablename__ = "open_items"
    __table_args__ = (
        UniqueConstraint("entity", "document_number"),
        # Only items not closed, and only open items by open amount (`partial_index`): an
        # item a payment closes leaves both instead of moving inside them.
        partial_index("ix_open_items_status_customer", "status", "customer_id",
                      where="status != 'closed'"),
        partial_index("ix_open_items_open_amount", "open_amount", where="status = 'open'"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(40))
    document_number: Mapped[str] = mapped_column(String(64), index=True)
    document_type: Mapped[str] = mapped_column(String(16))
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[Decimal] = mapped_column(Money)
    open_amount: Mapped[Decimal] = mapped_column(Money)
    # The open amount as the ERP last reported it; applications made here are subtracted.
    erp_open_amount: Mapped[Decimal] = mapped_column(Money)
    issue_date: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date] = mapped_column(Date, index=True)
    # Not indexed: no query looks an item up by it (the matchers read it from their view,
    # the screens search inside it), and a million-item import would build it for nothing.
    payment_reference: Mapped[str | None] = mapped_column(String(64))
    discount_rate: Mapped[Decimal | None] = mapped_column(Rate)
    discount_due_date: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
