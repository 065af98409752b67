"""Customer risk from payment behaviour, and a predicted payment date per open item.

The score (0 = no concern, 100 = worst) adds up weighted signals, each kept as a reason a
collector can read: how late the customer pays on average (amount-weighted, so a small late
invoice does not outweigh a large punctual one), whether that is getting worse, open
disputes, broken promises, and exposure against the credit limit.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reconciler.db.bank import TransactionRow
from reconciler.db.collections import DisputeRow, PromiseRow
from reconciler.db.ledger import CustomerRow, OpenItemRow
from reconciler.db.matching import ApplicationLineRow, ApplicationRow

CLASSES = ((25, "A"), (50, "B"), (75, "C"), (101, "D"))


@dataclass(frozen=True, slots=True)
class Settlement:
    """One item settled by a payment: when it was due and when the money came."""

    due_date: dt.date
    paid_on: dt.date
    amount: Decimal

    @property
    def days_late(self) -> int:
        return (self.paid_on - self.due_date).days


@dataclass(frozen=True, slots=True)
class RiskInput:
    settlements: tuple[Settlement, ...]
    open_disputes: int
    broken_promises: int
    open_amount: Decimal
    credit_limit: Decimal | None
    overdue_amount: Decimal


@dataclass(frozen=True, slots=True)
class RiskScore:
    score: int
    risk_class: str
    reasons: tuple[str, ...]
    average_days_late: Decimal  # amount-weighted; negative = pays early


def weighted_days_late(settlements: tuple[Settlement, ...] | list[Settlement]) -> Decimal:
    total = sum((s.amount for s in settlements), Decimal(0))
    if not total:
        return Decimal(0)
    weighted = sum((s.amount * s.days_late for s in settlements), Decimal(0))
    return (weighted / total).quantize(Decimal("0.1"))


def score(data: RiskInput) -> RiskScore:
    points = 0
    reasons: list[str] = []
    history = sorted(data.settlements, key=lambda s: s.paid_on)
    late = weighted_days_late(history)
    if history:
        lateness = min(40, max(0, int(late)))  # up to 40 points: one per day late
        if lateness:
            points += lateness
            reasons.append(f"pays {late} days late on average")
        if len(history) >= 6:
            recent, earlier = history[-3:], history[:-3]
            trend = weighted_days_late(recent) - weighted_days_late(earlier)
            if trend >= 5:
                points += min(15, int(trend))
                reasons.append(f"paying {trend} days later than before")
    else:
        points += 10
        reasons.append("no payment history")
    if data.open_disputes:
        points += min(15, 5 * data.open_disputes)
        reasons.append(f"{data.open_disputes} open dispute(s)")
    if data.broken_promises:
        points += min(20, 10 * data.broken_promises)
        reasons.append(f"{data.broken_promises} broken promise(s) to pay")
    if data.credit_limit and data.credit_limit > 0:
        usage = data.open_amount / data.credit_limit
        if usage > 1:
            points += 15
            reasons.append(f"exposure {usage:.0%} of the credit limit")
        elif usage > Decimal("0.8"):
            points += 7
            reasons.append(f"exposure {usage:.0%} of the credit limit")
    if data.open_amount > 0 and data.overdue_amount / data.open_amount > Decimal("0.5"):
        points += 10
        reasons.append("more than half of the balance is overdue")
    points = min(points, 100)
    risk_class = next(name for bound, name in CLASSES if points < bound)
    return RiskScore(points, risk_class, tuple(reasons) or ("pays on time",), late)


def predicted_payment_date(due_date: dt.date, risk_score: RiskScore | None) -> dt.date:
    """Due date shifted by the customer's habitual lateness (early payers: not before issue)."""
    if risk_score is None:
        return due_date
    return due_date + dt.timedelta(days=int(risk_score.average_days_late))


def settlements_by_customer(session: Session) -> dict[str, list[Settlement]]:
    """Live item applications with the payment's value date, per customer."""
    rows = session.execute(
        select(OpenItemRow.customer_id, OpenItemRow.due_date, TransactionRow.value_date,
               TransactionRow.booking_date, ApplicationLineRow.amount)
        .join(ApplicationRow, ApplicationRow.id == ApplicationLineRow.application_id)
        .join(TransactionRow, TransactionRow.id == ApplicationRow.transaction_id)
        .join(OpenItemRow, OpenItemRow.id == ApplicationLineRow.item_id)
        .where(ApplicationLineRow.kind == "item", ApplicationRow.reversed_by_id.is_(None),
               ApplicationRow.reverses_id.is_(None)))
    history: dict[str, list[Settlement]] = defaultdict(list)
    for customer_id, due, value_date, booking_date, amount in rows:
        paid_on = value_date or booking_date
        if paid_on is not None and amount > 0:
            history[customer_id].append(Settlement(due, paid_on, amount))
    return history


def scores_by_customer(session: Session, as_of: dt.date) -> dict[str, RiskScore]:
    history = settlements_by_customer(session)
    disputes = dict(session.execute(
        select(DisputeRow.customer_id, func.count()).where(DisputeRow.status == "open")
        .group_by(DisputeRow.customer_id)).all())
    broken = dict(session.execute(
        select(PromiseRow.customer_id, func.count()).where(PromiseRow.status == "broken")
        .group_by(PromiseRow.customer_id)).all())
    exposure: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for customer_id, due_date, open_amount in session.execute(
            select(OpenItemRow.customer_id, OpenItemRow.due_date, OpenItemRow.open_amount)
            .where(OpenItemRow.status != "closed")):
        exposure[customer_id][0] += open_amount
        if due_date < as_of:
            exposure[customer_id][1] += open_amount
    result: dict[str, RiskScore] = {}
    for customer_id, limit in session.execute(
            select(CustomerRow.customer_id, CustomerRow.credit_limit)):
        open_amount, overdue = exposure.get(customer_id, [Decimal(0), Decimal(0)])
        result[customer_id] = score(RiskInput(
            settlements=tuple(history.get(customer_id, ())),
            open_disputes=int(disputes.get(customer_id, 0)),
            broken_promises=int(broken.get(customer_id, 0)), open_amount=open_amount,
            credit_limit=limit, overdue_amount=overdue))
    return result
