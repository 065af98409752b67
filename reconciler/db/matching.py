"""Matching results: stored proposals, applications with their lines, learned evidence."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reconciler.db.base import Base, Money, UTCDateTime, utcnow


class ProposalRow(Base):
    """A ranked proposal for a transaction, kept for review (rank 1 = best)."""

    __tablename__ = "proposals"
    __table_args__ = (
        Index("ix_proposals_state_confidence", "state", "confidence"),
        # The review queue filtered by customer, paged by confidence.
        Index("ix_proposals_customer_state_confidence", "customer_id", "state", "confidence"),
        UniqueConstraint("transaction_id", "run_id", "rank"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("transactions.id"), index=True)
    run_id: Mapped[int] = mapped_column(Integer)
    rank: Mapped[int] = mapped_column(Integer)
    matcher: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[str | None] = mapped_column(String(64))
    confidence: Mapped[float] = mapped_column(Float)  # a score in [0, 1], not money
    decision: Mapped[str] = mapped_column(String(16))  # auto | suggest
    # allocations: [{"entity","document_number","amount","discount"}], amounts as strings
    allocations: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    adjustments: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    evidence: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    explanation: Mapped[str] = mapped_column(Text, default="")
    # pending | accepted | rejected | superseded
    state: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApplicationRow(Base):
    """One applied decision for one transaction. Reversal sets `reversed_by_id`, deletes nothing."""

    __tablename__ = "applications"

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("transactions.id"), index=True)
    customer_id: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16))  # auto | manual
    matcher: Mapped[str | None] = mapped_column(String(64))
    confidence: Mapped[float | None] = mapped_column(Float)
    explanation: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(100))
    proposed_by: Mapped[str | None] = mapped_column(String(100))  # for four-eyes checks
    applied_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A reversal is itself an application row pointing at the one it undoes.
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"))
    reversed_by_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"))

    lines: Mapped[list[ApplicationLineRow]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="ApplicationLineRow.id"
    )


class ApplicationLineRow(Base):
    """A cash movement inside an application: settle an item, or an adjustment.

    kind: item | discount | bank_charge | write_off | unapplied. `item_id` is set for item and
    discount lines. Amounts of a reversal's lines carry the opposite sign.
    """

    __tablename__ = "application_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("open_items.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    reason: Mapped[str] = mapped_column(Text, default="")

    application: Mapped[ApplicationRow] = relationship(back_populates="lines")


class LearnedEvidenceRow(Base):
    """A payer IBAN or name that staff confirmed belongs to a customer."""

    __tablename__ = "learned_evidence"
    __table_args__ = (UniqueConstraint("kind", "value", "customer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # iban | name
    value: Mapped[str] = mapped_column(String(200), index=True)  # normalised
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    source_transaction_id: Mapped[int | None] = mapped_column(ForeignKey("transactions.id"))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    active: Mapped[bool] = mapped_column(default=True)


class MatchRunRow(Base):
    __tablename__ = "match_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    dry_run: Mapped[bool] = mapped_column(default=False)
    summary: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
