"""Tables of the jobs slice: bank source file state, job history, job leases (leader lock)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from reconciler.db.base import Base, UTCDateTime, utcnow


class SourceFileRow(Base):
    """What a bank source offered: one row per (source, name, size, mtime) observation.

    seen -> imported -> acknowledged, or failed. A file whose size and mtime have stayed the
    same since `first_seen_at` is no longer being written. The row remembers a taken file
    where the bank's folder has no archive to move it to.
    """

    __tablename__ = "source_files"
    __table_args__ = (
        UniqueConstraint("source", "name", "size", "mtime"),
        Index("ix_source_files_source_state", "source", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    mtime: Mapped[int] = mapped_column(BigInteger)  # seconds since the epoch, as the bank says
    state: Mapped[str] = mapped_column(String(16), default="seen")
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    bank_file_id: Mapped[int | None] = mapped_column(ForeignKey("bank_files.id"))
    outcome: Mapped[str | None] = mapped_column(String(32))  # imported | duplicate | quarantined
    error: Mapped[str | None] = mapped_column(Text)
    first_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    imported_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class JobRunRow(Base):
    """One run of a scheduled (or manually started) job, with its outcome."""

    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_job_started", "job", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(100))
    holder: Mapped[str] = mapped_column(String(200))  # host:pid:random of the process
    status: Mapped[str] = mapped_column(String(16), default="running")  # running | ok | error
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    summary: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)


class JobLeaseRow(Base):
    """A lease per job name: whoever holds an unexpired lease runs the job, nobody else.

    Taken by an atomic UPDATE ... WHERE expires_at < now, renewed while the job runs; a
    process that dies simply stops renewing and another takes over when the lease expires.
    """

    __tablename__ = "job_leases"

    job: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(200))
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    renewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    runs: Mapped[int] = mapped_column(Integer, default=0)
