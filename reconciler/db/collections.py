"""Collections: disputes, promises to pay, dunning runs and actions, the email outbox."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from reconciler.db.base import Base, Money, UTCDateTime, utcnow


class DisputeRow(Base):
    """A customer contests an item. While open, the item leaves dunning and automatic matching."""

    __tablename__ = "disputes"
    __table_args__ = (Index("ix_disputes_status_customer", "status", "customer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("open_items.id"), index=True)
    customer_id: Mapped[str] = mapped_column(String(64))
    reason_code: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | resolved
    owner: Mapped[str | None] = mapped_column(String(100))
    target_date: Mapped[dt.date | None] = mapped_column(Date)
    amount: Mapped[Decimal | None] = mapped_column(Money)  # the contested part, if known
    source_transaction_id: Mapped[int | None] = mapped_column(ForeignKey("transactions.id"))
    opened_by: Mapped[str] = mapped_column(String(100))
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolution: Mapped[str | None] = mapped_column(String(32))  # credit_note | rejected | paid
    resolved_by: Mapped[str | None] = mapped_column(String(100))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Item status before the dispute, restored on resolution.
    item_status_before: Mapped[str] = mapped_column(String(16), default="open")


class DisputeNoteRow(Base):
    __tablename__ = "dispute_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("disputes.id"), index=True)
    author: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class PromiseRow(Base):
    """A promise to pay `amount` by `promised_date`; dunning of its items pauses until then."""

    __tablename__ = "promises"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    item_ids: Mapped[list[int]] = mapped_column(JSON)
    amount: Mapped[Decimal] = mapped_column(Money)
    promised_date: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | kept | broken
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class ItemDunningRow(Base):
    """Where an item stands in its dunning plan. `priority` rises after a broken promise."""

    __tablename__ = "item_dunning"

    item_id: Mapped[int] = mapped_column(ForeignKey("open_items.id"), primary_key=True)
    level: Mapped[int] = mapped_column(Integer, default=0)  # 0: never dunned
    stage: Mapped[str | None] = mapped_column(String(40))
    last_action_date: Mapped[dt.date | None] = mapped_column(Date)
    priority: Mapped[int] = mapped_column(Integer, default=0)


class DunningRunRow(Base):
    """One run per business day: running again on the same date adds nothing."""

    __tablename__ = "dunning_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_date: Mapped[dt.date] = mapped_column(Date, unique=True)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    summary: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)


class DunningActionRow(Base):
    """A due action for one customer: a letter, an email, a phone-call task, a formal notice."""

    __tablename__ = "dunning_actions"
    __table_args__ = (
        UniqueConstraint("run_id", "customer_id"),
        Index("ix_dunning_actions_status_priority", "status", "priority"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("dunning_runs.id"), index=True)
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    stage: Mapped[str] = mapped_column(String(40))
    level: Mapped[int] = mapped_column(Integer)
    # email | letter | phone | formal_notice | task
    channel: Mapped[str] = mapped_column(String(16))
    owner: Mapped[str | None] = mapped_column(String(100))
    segment: Mapped[str | None] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(5))
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[Decimal] = mapped_column(Money)
    fee: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    interest: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    items: Mapped[list[dict[str, object]]] = mapped_column(JSON)
    risk_score: Mapped[int] = mapped_column(Integer, default=0)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="due")  # due | sent | done
    outcome: Mapped[str | None] = mapped_column(String(32))  # promise | dispute | no_answer
    outcome_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class EmailOutboxRow(Base):
    __tablename__ = "email_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int | None] = mapped_column(ForeignKey("dunning_actions.id"), unique=True)
    recipient: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(200))
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class KpiSnapshotRow(Base):
    """KPIs as computed on a date, kept to chart them over time."""

    __tablename__ = "kpi_snapshots"
    __table_args__ = (UniqueConstraint("as_of", "dimension", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[dt.date] = mapped_column(Date)
    dimension: Mapped[str] = mapped_column(String(16), default="all")  # all | entity | ...
    value: Mapped[str] = mapped_column(String(64), default="")
    figures: Mapped[dict[str, object]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
