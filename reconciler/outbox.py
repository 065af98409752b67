"""Deliver posted cash entries to every configured ERP sink, exactly once per sink.

A delivery row per (sink, posting) is created when the posting is first seen. Delivery goes
in sequence order per sink: the oldest due row is claimed (`claimed_until`, set by an
optimistic UPDATE that only one process can win, so a manual run and the scheduler never send
the same row at once), delivered, and its outcome recorded. A failure waits with exponential
backoff and stops that sink for this run, so the ERP never receives entry n+1 before entry n;
after `max_attempts` the row is `failed` and the sink moves on. A crash between delivery and
record repeats the delivery with the same idempotency key and the same file name, which the
receiver recognises: exactly once as the ERP sees it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from connectors.errors import ConnectorError
from connectors.sinks.base import Sink, open_sink
from reconciler import journal
from reconciler.db.base import utcnow
from reconciler.db.outbox import OutboxDeliveryRow, PostingRow
from reconciler.db.session import Database
from reconciler.errors import ConfigError, ReconError
from reconciler.postings import derive_postings
from reconciler.settings import Settings

log = logging.getLogger(__name__)
ACTOR = "system:outbox"
MAX_BACKOFF_SECONDS = 3600.0


@dataclass(frozen=True, slots=True)
class SinkReport:
    sink: str
    delivered: int = 0
    failed_attempts: int = 0
    given_up: int = 0
    pending: int = 0
    last_error: str | None = None


def prepare(db: Database, settings: Settings) -> tuple[int, int]:
    """Derive new postings and queue them for each sink; returns (postings, deliveries)."""
    try:
        with db.transaction() as session:
            postings = len(derive_postings(session))
            queued = enqueue(session, settings.sinks)
    except IntegrityError:
        # Another process derived the same postings at the same moment; its work stands.
        return 0, 0
    return postings, queued


def enqueue(session: Session, sinks: Iterable[str]) -> int:
    """A delivery row for each (sink, posting) that has none. A sink added later receives
    every posting from the first one: the ERP's ledger needs the whole sequence."""
    count = 0
    for sink in sinks:
        missing = session.execute(
            select(PostingRow.id, PostingRow.sequence)
            .outerjoin(OutboxDeliveryRow, (OutboxDeliveryRow.posting_pk == PostingRow.id)
                       & (OutboxDeliveryRow.sink == sink))
            .where(OutboxDeliveryRow.id.is_(None)).order_by(PostingRow.sequence)
        ).all()
        now = utcnow()
        for posting_pk, sequence in missing:
            session.add(OutboxDeliveryRow(sink=sink, posting_pk=posting_pk, sequence=sequence,
                                          state="pending", attempts=0, next_attempt_at=now))
            count += 1
    session.flush()
    return count


def deliver(db: Database, settings: Settings, *, sinks: Iterable[str] | None = None,
            now_only: bool = False, backoff_seconds: float = 30.0,
            limit: int = 1000) -> list[SinkReport]:
    """Deliver what is due to each sink (or the named ones).

    `now_only=False` respects each row's backoff; a manual run (`recon export postings`)
    passes True and tries every pending row at once. Given-up rows wait for `retry_failed`.
    """
    chosen = list(sinks) if sinks else sorted(settings.sinks)
    for name in chosen:
        if name not in settings.sinks:
            known = ", ".join(sorted(settings.sinks)) or "none configured"
            raise ConfigError(f"unknown sink {name!r} (known: {known})")
    prepare(db, settings)
    reports = []
    for name in chosen:
        sink_settings = settings.sinks[name]
        try:
            sink = open_sink(name, sink_settings, settings.data_dir)
        except ReconError as exc:
            reports.append(SinkReport(name, last_error=str(exc)))
            continue
        try:
            reports.append(_deliver_sink(db, name, sink, sink_settings.max_attempts,
                                         sink_settings.timeout_seconds, now_only,
                                         backoff_seconds, limit))
        finally:
            sink.close()
    return reports


def _claim(db: Database, sink: str, claim_seconds: int, now_only: bool
           ) -> tuple[int, int, dict[str, object]] | None:
    """Claim the sink's oldest pending delivery, or None if it is not this run's to send."""
    now = utcnow()
    with db.transaction() as session:
        row = session.scalars(
            select(OutboxDeliveryRow)
            .where(OutboxDeliveryRow.sink == sink, OutboxDeliveryRow.state == "pending")
            .order_by(OutboxDeliveryRow.sequence).limit(1)).first()
        if row is None:
            return None
        if row.claimed_until is not None and row.claimed_until > now:
            return None  # another process is delivering it right now
        if not now_only and row.next_attempt_at > now:
            return None  # the oldest is waiting for its retry: keep the order
        # Optimistic claim: only one process's UPDATE matches the values it read.
        claimed = session.execute(
            update(OutboxDeliveryRow)
            .where(OutboxDeliveryRow.id == row.id,
                   OutboxDeliveryRow.attempts == row.attempts,
                   OutboxDeliveryRow.state == "pending")
            .values(attempts=row.attempts + 1,
                    claimed_until=now + dt.timedelta(seconds=claim_seconds))
            .execution_options(synchronize_session=False))
        if int(getattr(claimed, "rowcount", 0) or 0) != 1:
            return None
        posting = session.get(PostingRow, row.posting_pk)
        assert posting is not None
        return row.id, row.attempts + 1, dict(posting.payload)


def _deliver_sink(db: Database, name: str, sink: Sink, max_attempts: int, timeout: int,
                  now_only: bool, backoff_seconds: float, limit: int) -> SinkReport:
    delivered = failed = given_up = 0
    last_error: str | None = None
    for _ in range(limit):
        claimed = _claim(db, name, timeout * 2 + 30, now_only)
        if claimed is None:
            break
        row_id, attempts, payload = claimed
        try:
            ack = sink.deliver(payload)
        except ConnectorError as exc:
            last_error = str(exc)
            failed += 1
            gave_up = attempts >= max_attempts
            given_up += int(gave_up)
            _record_failure(db, row_id, attempts, last_error, gave_up, backoff_seconds)
            if not gave_up:
                break
            continue
        _record_success(db, row_id, ack)
        delivered += 1
    with db.session() as session:
        pending = len(session.scalars(select(OutboxDeliveryRow.id).where(
            OutboxDeliveryRow.sink == name, OutboxDeliveryRow.state == "pending")).all())
    return SinkReport(name, delivered, failed, given_up, pending, last_error)


def _record_success(db: Database, row_id: int, ack: str) -> None:
    with db.transaction() as session:
        row = session.get(OutboxDeliveryRow, row_id)
        assert row is not None
        row.state, row.delivered_at, row.ack, row.last_error = "delivered", utcnow(), ack, None
        row.claimed_until = None
        journal.record(session, actor=ACTOR, action="posting.delivered",
                       subject=f"posting:{row.sequence}", reason=f"sink {row.sink}",
                       data={"sink": row.sink, "attempts": row.attempts, "ack": ack[:500]})


def _record_failure(db: Database, row_id: int, attempts: int, error: str, gave_up: bool,
                    backoff_seconds: float) -> None:
    delay = min(backoff_seconds * 2 ** (attempts - 1), MAX_BACKOFF_SECONDS)
    with db.transaction() as session:
        row = session.get(OutboxDeliveryRow, row_id)
        assert row is not None
        row.last_error, row.claimed_until = error, None
        row.next_attempt_at = utcnow() + dt.timedelta(seconds=delay)
        if gave_up:
            row.state = "failed"
            journal.record(session, actor=ACTOR, action="posting.delivery_failed",
                           subject=f"posting:{row.sequence}", reason=error[:500],
                           data={"sink": row.sink, "attempts": attempts})


def retry_failed(db: Database, sink: str) -> int:
    """Put given-up deliveries of a sink back in the queue (after the ERP side was fixed)."""
    with db.transaction() as session:
        result = session.execute(
            update(OutboxDeliveryRow)
            .where(OutboxDeliveryRow.sink == sink, OutboxDeliveryRow.state == "failed")
            .values(state="pending", attempts=0, next_attempt_at=utcnow()))
        count = int(getattr(result, "rowcount", 0) or 0)
        if count:
            journal.record(session, actor=ACTOR, action="posting.requeued",
                           subject=f"sink:{sink}", data={"deliveries": count})
        return count
