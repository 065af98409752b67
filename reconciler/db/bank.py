"""Bank side: raw files (content-addressed), statements, transactions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    and_,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reconciler.db.base import Base, Money, UTCDateTime, partial_index, utcnow


class BankFileRow(Base):
    """The raw bytes of every file received, keyed by sha256: same bytes twice, one row."""

    __tablename__ = "bank_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(255))
    source: Mapped[str | None] = mapped_column(String(64))  # connector name, or None for CLI
    format: Mapped[str | None] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16))  # imported | duplicate | quarantined
    error: Mapped[str | None] = mapped_column(Text)
    diagnostics: Mapped[list[dict[str, str | None]]] = mapped_column(JSON, default=list)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class StatementRow(Base):
    __tablename__ = "statements"
    __table_args__ = (
        # The same statement delivered in a second file is recognised by this key.
        UniqueConstraint("account", "statement_id", "sequence", "kind", "closing_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("bank_files.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    account: Mapped[str] = mapped_column(String(64), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    statement_id: Mapped[str] = mapped_column(String(64), default="")
    sequence: Mapped[str] = mapped_column(String(32), default="")
    opening_balance: Mapped[Decimal | None] = mapped_column(Money)
    closing_balance: Mapped[Decimal | None] = mapped_column(Money)
    opening_date: Mapped[dt.date | None] = mapped_column(Date)
    closing_date: Mapped[dt.date | None] = mapped_column(Date)
    balance_ok: Mapped[bool | None] = mapped_column(Boolean)
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    transactions: Mapped[list[TransactionRow]] = relationship(back_populates="statement")


class TransactionRow(Base):
    """One bank transaction. `state` tracks reconciliation; the bank data never changes."""

    __tablename__ = "transactions"
    __table_args__ = (
        # Only lines not applied (`partial_index`): the queues and the next matcher run look
        # for lines still to be worked on, and an applied line leaves the index.
        partial_index("ix_transactions_state_amount", "state", "amount",
                      where="state != 'applied'"),
        Index("ix_transactions_bank_reference", "bank_reference"),
        Index("ix_transactions_entry_reference", "entry_reference"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # order inside the statement
    account: Mapped[str] = mapped_column(String(64))
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    booking_date: Mapped[dt.date | None] = mapped_column(Date)
    value_date: Mapped[dt.date | None] = mapped_column(Date)
    # Stable identity for exports and de-duplication: the bank's reference, else derived.
    bank_reference: Mapped[str] = mapped_column(String(128))
    end_to_end_id: Mapped[str | None] = mapped_column(String(128))
    entry_reference: Mapped[str | None] = mapped_column(String(128))
    counterparty_name: Mapped[str | None] = mapped_column(String(200))
    counterparty_iban: Mapped[str | None] = mapped_column(String(64), index=True)
    counterparty_bic: Mapped[str | None] = mapped_column(String(11))
    ultimate_debtor: Mapped[str | None] = mapped_column(String(200))
    creditor_reference: Mapped[str | None] = mapped_column(String(64), index=True)
    remittance_text: Mapped[str | None] = mapped_column(Text)
    bank_transaction_code: Mapped[str | None] = mapped_column(String(64))
    entry_status: Mapped[str] = mapped_column(String(16), default="booked")
    return_reason: Mapped[str | None] = mapped_column(String(64))
    charges_amount: Mapped[Decimal | None] = mapped_column(Money)
    is_reversal: Mapped[bool] = mapped_column(Boolean, default=False)
    details: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)  # every other field
    raw: Mapped[str | None] = mapped_column(Text)
    # unreconciled | suggested | applied | unmatched | not_receivable | on_account | linked
    state: Mapped[str] = mapped_column(String(16), default="unreconciled")
    # A camt.054 advice and the camt.053 entry that books it: the later one links here.
    linked_to_id: Mapped[int | None] = mapped_column(ForeignKey("transactions.id"))

    statement: Mapped[StatementRow] = relationship(back_populates="transactions")


def state_in(states: tuple[str, ...]) -> ColumnElement[bool]:
    """`TransactionRow.state IN states` for states of lines still to be worked on, with the
    state index's own condition beside it: SQLite uses that partial index only then."""
    if "applied" in states:
        raise ValueError("the state index holds no applied lines; query applied ones apart")
    return and_(TransactionRow.state.in_(states), TransactionRow.state != "applied")
