"""Dashboard figures and the audit log."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reconciler.db.bank import BankFileRow, StatementRow, TransactionRow, state_in
from reconciler.db.journal import JournalRow
from reconciler.db.ledger import OpenItemRow
from reconciler.db.matching import ApplicationLineRow, ApplicationRow, ProposalRow
from reconciler.errors import InputError
from reconciler.money import ZERO
from web.queries.records import AGING_BUCKETS, aging_bucket

AUDIT_PAGE = 100


@dataclass(frozen=True, slots=True)
class DayCount:
    day: dt.date
    auto: int
    manual: int


@dataclass(frozen=True, slots=True)
class Dashboard:
    as_of: dt.date
    imports_today: dict[str, int]
    transactions_today: int
    auto_rate: float | None
    applications_30d: int
    suggestions_pending: int
    transactions_in_review: int
    exceptions_open: int
    unapplied_cash: dict[str, Decimal]
    open_receivables: dict[str, Decimal]
    aging: dict[str, Decimal]  # base currency only: buckets of different currencies don't add
    per_day: tuple[DayCount, ...]


def _start_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def dashboard(session: Session, as_of: dt.date, base_currency: str) -> Dashboard:
    since_today = _start_of(as_of)
    imports = dict(session.execute(
        select(BankFileRow.status, func.count()).where(BankFileRow.received_at >= since_today)
        .group_by(BankFileRow.status)).all())
    tx_today = session.scalar(
        select(func.count()).select_from(TransactionRow)
        .join(StatementRow, StatementRow.id == TransactionRow.statement_id)
        .where(StatementRow.imported_at >= since_today)) or 0
    # The automatic rate counts decisions, not reversals: a reversal is not a second payment.
    since_30 = _start_of(as_of - dt.timedelta(days=29))
    applied = dict(session.execute(
        select(ApplicationRow.status, func.count())
        .where(ApplicationRow.reverses_id.is_(None), ApplicationRow.applied_at >= since_30)
        .group_by(ApplicationRow.status)).all())
    total = sum(applied.values())
    auto_rate = applied.get("auto", 0) / total if total else None
    pending = session.scalar(select(func.count()).select_from(ProposalRow)
                             .where(ProposalRow.state == "pending")) or 0
    in_review = session.scalar(select(func.count(func.distinct(ProposalRow.transaction_id)))
                               .where(ProposalRow.state == "pending")) or 0
    exceptions = session.scalar(select(func.count()).select_from(TransactionRow).where(
        state_in(("unmatched",)), TransactionRow.amount > ZERO)) or 0
    # Reversal lines carry the opposite sign, so the plain sum is what is still unapplied.
    unapplied = dict(session.execute(
        select(TransactionRow.currency, func.sum(ApplicationLineRow.amount))
        .join(ApplicationRow, ApplicationRow.id == ApplicationLineRow.application_id)
        .join(TransactionRow, TransactionRow.id == ApplicationRow.transaction_id)
        .where(ApplicationLineRow.kind == "unapplied")
        .group_by(TransactionRow.currency)).all())
    receivables = dict(session.execute(
        select(OpenItemRow.currency, func.sum(OpenItemRow.open_amount))
        .where(OpenItemRow.status != "closed").group_by(OpenItemRow.currency)).all())
    aging = {bucket: ZERO for bucket in AGING_BUCKETS}
    for due, amount in session.execute(
            select(OpenItemRow.due_date, func.sum(OpenItemRow.open_amount))
            .where(OpenItemRow.status != "closed", OpenItemRow.currency == base_currency)
            .group_by(OpenItemRow.due_date)):
        aging[aging_bucket(due, as_of)] += amount or ZERO
    return Dashboard(
        as_of=as_of, imports_today=imports, transactions_today=tx_today, auto_rate=auto_rate,
        applications_30d=total, suggestions_pending=pending, transactions_in_review=in_review,
        exceptions_open=exceptions,
        unapplied_cash={c: a for c, a in unapplied.items() if a},
        open_receivables={c: a for c, a in receivables.items() if a is not None},
        aging=aging, per_day=tuple(_per_day(session, as_of)))


def _per_day(session: Session, as_of: dt.date, days: int = 14) -> list[DayCount]:
    since = _start_of(as_of - dt.timedelta(days=days - 1))
    counts: dict[dt.date, dict[str, int]] = {}
    for status, at in session.execute(
            select(ApplicationRow.status, ApplicationRow.applied_at)
            .where(ApplicationRow.reverses_id.is_(None), ApplicationRow.applied_at >= since)):
        counts.setdefault(at.astimezone(dt.UTC).date(), {}).setdefault(status, 0)
        counts[at.astimezone(dt.UTC).date()][status] += 1
    result = []
    for offset in range(days - 1, -1, -1):
        day = as_of - dt.timedelta(days=offset)
        by_status = counts.get(day, {})
        result.append(DayCount(day=day, auto=by_status.get("auto", 0),
                               manual=sum(v for k, v in by_status.items() if k != "auto")))
    return result


@dataclass(frozen=True, slots=True)
class AuditFilter:
    actor: str = ""
    action: str = ""
    subject: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    @classmethod
    def from_args(cls, args: dict[str, str]) -> AuditFilter:
        def day(name: str) -> dt.date | None:
            text = (args.get(name) or "").strip()
            if not text:
                return None
            try:
                return dt.date.fromisoformat(text)
            except ValueError:
                raise InputError(f"{name}: not an ISO date (YYYY-MM-DD): {text!r}") from None

        return cls(actor=(args.get("actor") or "").strip(),
                   action=(args.get("action") or "").strip(),
                   subject=(args.get("subject") or "").strip(),
                   date_from=day("date_from"), date_to=day("date_to"))


def audit_log(session: Session, filters: AuditFilter, before: int | None = None,
              limit: int = AUDIT_PAGE) -> list[JournalRow]:
    stmt = select(JournalRow)
    if filters.actor:
        stmt = stmt.where(JournalRow.actor == filters.actor)
    if filters.action:
        stmt = stmt.where(JournalRow.action.startswith(filters.action))
    if filters.subject:
        stmt = stmt.where(JournalRow.subject.startswith(filters.subject))
    if filters.date_from:
        stmt = stmt.where(JournalRow.at >= _start_of(filters.date_from))
    if filters.date_to:
        stmt = stmt.where(JournalRow.at < _start_of(filters.date_to + dt.timedelta(days=1)))
    if before:
        stmt = stmt.where(JournalRow.seq < before)
    return list(session.scalars(stmt.order_by(JournalRow.seq.desc()).limit(limit)))
