"""The append-only audit journal, hash-chained so that tampering is detectable."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from reconciler.db.base import Base, UTCDateTime


class JournalRow(Base):
    """One entry of the chain. Every decision appends one, in its own transaction, so each
    index here is paid for on every commit: only the lookups the screens make are indexed
    (by actor, by subject). The chain itself needs none: `seq` is the key (SQLite's rowid),
    and a duplicated or altered hash is found by `recon audit verify`."""

    __tablename__ = "journal"

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                     primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(100), index=True)
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(200), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class JournalHeadRow(Base):
    """A single row naming the chain's last entry. Appenders lock it (SELECT ... FOR UPDATE),
    which serialises journal writes across processes without a table lock."""

    __tablename__ = "journal_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
