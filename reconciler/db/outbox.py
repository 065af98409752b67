"""Tables of the outbox slice: posted cash entries and their delivery to each ERP sink.

A posting is derived once from an application (or its reversal) and never changes, so what the
ERP receives on a retry is byte for byte what it was offered the first time. A delivery row per
(sink, posting) carries the attempts, the next try and the acknowledgement.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

# The jobs slice is not listed in reconciler.db.schema yet; importing it here puts its tables
# into Base.metadata (and so into what tests/admin/test_migrations.py compares with the
# migrations) whenever the outbox tables are.
from reconciler.db import jobs as _jobs  # noqa: F401
from reconciler.db.base import Base, UTCDateTime, utcnow


class PostingRow(Base):
    """One cash entry for the ERP: the journal lines of one application or reversal."""

    __tablename__ = "postings"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Gap-free, strictly increasing in the order postings were derived: the ERP can tell a
    # missing entry from a late one.
    sequence: Mapped[int] = mapped_column(BigInteger, unique=True)
    posting_id: Mapped[str] = mapped_column(String(64), unique=True)  # Idempotency-Key
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # application | reversal
    reverses_sequence: Mapped[int | None] = mapped_column(BigInteger)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("transactions.id"), index=True)
    customer_id: Mapped[str | None] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    payload: Mapped[dict[str, object]] = mapped_column(JSON)  # the entry exactly as delivered
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutboxDeliveryRow(Base):
    """Delivery of one posting to one sink: pending -> delivered (ack kept) or failed."""

    __tablename__ = "outbox_deliveries"
    __table_args__ = (
        UniqueConstraint("sink", "posting_pk"),
        Index("ix_outbox_deliveries_due", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sink: Mapped[str] = mapped_column(String(64))
    posting_pk: Mapped[int] = mapped_column(ForeignKey("postings.id"), index=True)
    sequence: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending|delivered|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set while a process delivers the row; a crashed process's claim simply runs out.
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ack: Mapped[str | None] = mapped_column(Text)  # HTTP status and body, file or remote path
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
