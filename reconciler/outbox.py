"""Deliver posted cash entries to every configured ERP sink, exactly once per sink.

A delivery row per (sink, posting) is created when the posting is first seen. Delivery goes
in sequence order per sink: the oldest due rows are claimed (`claimed_until`, set by an
optimistic UPDATE that only one process can win, so a manual run and the scheduler never send
the same row at once; renewed while a slow sink is still being sent to, and given up by a
process that finds its rows taken after all), delivered, and its outcome recorded. A failure
waits with exponential backoff and stops that sink for this run, so the ERP never receives
entry n+1 before entry n; after `max_attempts` the row is `failed` and the sink moves on. A
crash between delivery and record repeats the delivery with the same idempotency key and the
same file name, which the receiver recognises: exactly once as the ERP sees it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
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
# Rows claimed per transaction; a crash repeats at most this many deliveries (idempotently).
CLAIM_BATCH = 20
# A claim lasts two delivery timeouts and this much more, and is renewed for the rows not yet
# recorded whenever the next delivery could outlast it: a slow ERP never lets another process take
# rows this one is still sending, and a crashed process holds its rows that long at most.
CLAIM_MARGIN_SECONDS = 30


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


@dataclass(frozen=True, slots=True)
class _Claimed:
    row_id: int
    attempt: int  # the number of this attempt
    payload: dict[str, object]


@dataclass(slots=True)
class _Claim:
    """Rows this process holds until `until` (the value it wrote, which proves the hold)."""

    rows: list[_Claimed]
    until: dt.datetime
    seconds: int


class _ClaimLost(Exception):
    """Another process claimed some of the rows between our read and our update."""


def _claim(db: Database, sink: str, claim_seconds: int, now_only: bool,
           size: int) -> _Claim | None:
    """Claim the sink's oldest pending deliveries, in order, up to the first that is not this
    run's to send (waiting for its retry, or being delivered by another process)."""
    now = utcnow()
    until = now + dt.timedelta(seconds=claim_seconds)
    try:
        with db.transaction() as session:
            rows = session.scalars(
                select(OutboxDeliveryRow)
                .where(OutboxDeliveryRow.sink == sink, OutboxDeliveryRow.state == "pending")
                .order_by(OutboxDeliveryRow.sequence).limit(size)).all()
            run = []
            for row in rows:
                if row.claimed_until is not None and row.claimed_until > now:
                    break  # another process is delivering it right now
                if not now_only and row.next_attempt_at > now:
                    break  # waiting for its retry: later entries wait too, keeping the order
                run.append(row)
            if not run:
                return None
            ids = [row.id for row in run]
            # Optimistic claim: only one process's UPDATE matches every row it read.
            result = session.execute(
                update(OutboxDeliveryRow)
                .where(OutboxDeliveryRow.id.in_(ids), OutboxDeliveryRow.state == "pending",
                       or_(OutboxDeliveryRow.claimed_until.is_(None),
                           OutboxDeliveryRow.claimed_until <= now))
                .values(claimed_until=until)
                .execution_options(synchronize_session=False))
            if int(getattr(result, "rowcount", 0) or 0) != len(ids):
                raise _ClaimLost
            payloads: dict[int, dict[str, object]] = {
                posting_id: payload for posting_id, payload in session.execute(
                    select(PostingRow.id, PostingRow.payload)
                    .where(PostingRow.id.in_([row.posting_pk for row in run])))}
            return _Claim([_Claimed(row.id, row.attempts + 1, dict(payloads[row.posting_pk]))
                           for row in run], until, claim_seconds)
    except (_ClaimLost, OperationalError):
        return None  # SQLite: the other writer won the lock; either way it delivers these


def _renew(db: Database, claim: _Claim, held: list[_Claimed]) -> bool:
    """Extend the claim on the rows not yet recorded; False when any of them is no longer
    ours (the claim ran out and another process took it: that process sends them now)."""
    until = utcnow() + dt.timedelta(seconds=claim.seconds)
    ids = [item.row_id for item in held]
    try:
        with db.transaction() as session:
            result = session.execute(
                update(OutboxDeliveryRow)
                .where(OutboxDeliveryRow.id.in_(ids), OutboxDeliveryRow.state == "pending",
                       OutboxDeliveryRow.claimed_until == claim.until)
                .values(claimed_until=until)
                .execution_options(synchronize_session=False))
            if int(getattr(result, "rowcount", 0) or 0) != len(ids):
                raise _ClaimLost
    except (_ClaimLost, OperationalError):
        return False
    claim.until = until
    return True


def _deliver_sink(db: Database, name: str, sink: Sink, max_attempts: int, timeout: int,
                  now_only: bool, backoff_seconds: float, limit: int) -> SinkReport:
    delivered = failed = given_up = 0
    last_error: str | None = None
    while delivered + failed < limit:
        claim = _claim(db, name, timeout * 2 + CLAIM_MARGIN_SECONDS, now_only,
                       min(CLAIM_BATCH, limit - delivered - failed))
        if claim is None:
            break
        batch = claim.rows
        done: list[tuple[_Claimed, str]] = []
        stop = False
        for position, item in enumerate(batch):
            # Rows sent but not yet recorded stay claimed too: another process would send
            # them again.
            unrecorded = [sent for sent, _ in done] + batch[position:]
            if not _still_ours(db, claim, unrecorded, timeout):
                stop = True  # what was sent is recorded below; the rest is another's now
                break
            try:
                done.append((item, sink.deliver(item.payload)))
                continue
            except ConnectorError as exc:
                last_error = str(exc)
            failed += 1
            gave_up = item.attempt >= max_attempts
            given_up += int(gave_up)
            # What went out before the failure is recorded with it; what comes after it
            # is released untried, so entry n+1 never overtakes entry n.
            rest = [] if gave_up else batch[position + 1:]
            _record(db, done, (item, last_error, gave_up), rest, backoff_seconds)
            delivered += len(done)
            done = []
            if not gave_up:
                stop = True
                break
        if done:
            _record(db, done, None, [], backoff_seconds)
            delivered += len(done)
        if stop:
            break
    with db.session() as session:
        pending = len(session.scalars(select(OutboxDeliveryRow.id).where(
            OutboxDeliveryRow.sink == name, OutboxDeliveryRow.state == "pending")).all())
    return SinkReport(name, delivered, failed, given_up, pending, last_error)


def _still_ours(db: Database, claim: _Claim, held: list[_Claimed], timeout: int) -> bool:
    """Whether the next delivery can go out under the claim: renewed first when it could
    time out after the claim ends."""
    if utcnow() + dt.timedelta(seconds=timeout) < claim.until:
        return True
    return _renew(db, claim, held)


def _record(db: Database, done: list[tuple[_Claimed, str]],
            failure: tuple[_Claimed, str, bool] | None, release: list[_Claimed],
            backoff_seconds: float) -> None:
    """Record delivered rows, the failed one and release the untried, in one transaction."""
    now = utcnow()
    with db.transaction() as session:
        for item, ack in done:
            row = session.get(OutboxDeliveryRow, item.row_id)
            assert row is not None
            row.state, row.delivered_at, row.ack, row.last_error = "delivered", now, ack, None
            row.attempts, row.claimed_until = item.attempt, None
            journal.record(session, actor=ACTOR, action="posting.delivered",
                           subject=f"posting:{row.sequence}", reason=f"sink {row.sink}",
                           data={"sink": row.sink, "attempts": row.attempts, "ack": ack[:500]})
        if failure is not None:
            item, error, gave_up = failure
            row = session.get(OutboxDeliveryRow, item.row_id)
            assert row is not None
            delay = min(backoff_seconds * 2 ** (item.attempt - 1), MAX_BACKOFF_SECONDS)
            row.attempts, row.last_error, row.claimed_until = item.attempt, error, None
            row.next_attempt_at = now + dt.timedelta(seconds=delay)
            if gave_up:
                row.state = "failed"
                journal.record(session, actor=ACTOR, action="posting.delivery_failed",
                               subject=f"posting:{row.sequence}", reason=error[:500],
                               data={"sink": row.sink, "attempts": item.attempt})
        for item in release:
            row = session.get(OutboxDeliveryRow, item.row_id)
            assert row is not None
            row.claimed_until = None


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
