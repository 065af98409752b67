"""Collections KPIs, computed from the ledger (items, applications) and the journal.

Formulas (period P = `period_days`, default 90 days ending at `as_of`; AR(d) = receivables
open at the end of day d, credit notes negative; sales = amounts of documents issued in P):

- DSO (standard) = AR(as_of) / sales x P.
- Count-back DSO: walk back from as_of in 30-day blocks, subtracting each block's sales from
  AR(as_of) while it lasts; the days walked (the last block pro rata) are the DSO. It is not
  distorted by a sales spike the way the standard formula is.
- Best-possible DSO = current AR (not yet due at as_of) / sales x P: the DSO if every
  customer paid exactly on time.
- Average days delinquent (ADD) = DSO - best-possible DSO.
- Aged balance: AR(as_of) by days past due: current (not due), 1-30, 31-60, 61-90, 90+.
- CEI (collection effectiveness index) = (AR(start) + sales - AR(as_of)) /
  (AR(start) + sales - current AR(as_of)): the share of collectible receivables collected.
- Automatic reconciliation rate: incoming payments (credits, value-dated in P, receivable)
  applied with no person involved, by count and by amount, over all such payments.
- On-time payment rate: items fully settled in P whose last settlement is on or before the
  due date, over all items fully settled in P.
- Average dispute resolution time: mean days from opening to resolution of the disputes
  resolved in P.
- Unapplied cash: money on customers' accounts not applied to items; its age is the
  amount-weighted mean of days since the payment's value date.
- Customer concentration: the ten largest customer balances' share of the positive AR.

An item's settlement history is the live applications made here, dated by the payment's
value date; what the ERP reports as already settled (amount - ERP open amount) counts as
settled on the day the item was last imported.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reconciler.db.bank import TransactionRow
from reconciler.db.collections import DisputeRow
from reconciler.db.ledger import CustomerRow, OpenItemRow
from reconciler.db.matching import ApplicationLineRow, ApplicationRow

BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")
_Q = Decimal("0.01")
_R = Decimal("0.0001")


@dataclass(slots=True)
class ItemFact:
    customer_id: str
    entity: str
    currency: str
    segment: str
    amount: Decimal
    issue_date: dt.date
    due_date: dt.date
    settlements: list[tuple[dt.date, Decimal]] = field(default_factory=list)

    def open_at(self, day: dt.date) -> Decimal:
        if self.issue_date > day:
            return Decimal(0)
        paid = sum((amount for when, amount in self.settlements if when <= day), Decimal(0))
        return self.amount - paid

    def settled_on(self) -> dt.date | None:
        """The day the item became fully settled, if it did."""
        remaining = self.amount
        for when, amount in sorted(self.settlements):
            remaining -= amount
            if (self.amount > 0 and remaining <= 0) or (self.amount < 0 and remaining >= 0):
                return when
        return None


@dataclass(frozen=True, slots=True)
class PaymentFact:
    value_date: dt.date
    amount: Decimal
    auto: bool
    customer_id: str | None
    currency: str


@dataclass(slots=True)
class KpiInput:
    items: list[ItemFact]
    payments: list[PaymentFact]
    dispute_days: list[tuple[dt.date, int]]  # (resolved on, days to resolve)
    unapplied: list[tuple[str, str, dt.date, Decimal]]  # customer, currency, value date, amount


def _ratio(numerator: Decimal, denominator: Decimal, quantum: Decimal = _R) -> Decimal | None:
    if not denominator:
        return None
    return (numerator / denominator).quantize(quantum)


def compute(data: KpiInput, as_of: dt.date, period_days: int = 90) -> dict[str, Any]:
    start = as_of - dt.timedelta(days=period_days)
    ar = sum((i.open_at(as_of) for i in data.items), Decimal(0))
    ar_start = sum((i.open_at(start) for i in data.items), Decimal(0))
    current = sum((i.open_at(as_of) for i in data.items if i.due_date >= as_of), Decimal(0))
    sales = sum((i.amount for i in data.items if start < i.issue_date <= as_of), Decimal(0))
    aged = dict.fromkeys(BUCKETS, Decimal(0))
    for item in data.items:
        aged[bucket((as_of - item.due_date).days)] += item.open_at(as_of)
    dso = _ratio(ar * period_days, sales, _Q)
    bpdso = _ratio(current * period_days, sales, _Q)
    in_period = [p for p in data.payments if start < p.value_date <= as_of]
    settled = [(i, when) for i in data.items
               if (when := i.settled_on()) is not None and start < when <= as_of]
    disputes = [days for when, days in data.dispute_days if start < when <= as_of]
    unapplied_total = sum((amount for _, _, _, amount in data.unapplied), Decimal(0))
    unapplied_age = sum((amount * (as_of - when).days for _, _, when, amount in data.unapplied),
                        Decimal(0))
    balances: dict[str, Decimal] = defaultdict(Decimal)
    for item in data.items:
        balances[item.customer_id] += item.open_at(as_of)
    positive = sorted((b for b in balances.values() if b > 0), reverse=True)
    return {
        "as_of": as_of.isoformat(),
        "period_days": period_days,
        "receivables": ar.quantize(_Q),
        "credit_sales": sales.quantize(_Q),
        "dso": dso,
        "count_back_dso": count_back_dso(data.items, as_of, ar),
        "best_possible_dso": bpdso,
        "average_days_delinquent": (dso - bpdso) if dso is not None and bpdso is not None
        else None,
        "cei": _ratio(ar_start + sales - ar, ar_start + sales - current),
        "auto_rate": _ratio(Decimal(sum(p.auto for p in in_period)), Decimal(len(in_period))),
        "auto_rate_amount": _ratio(sum((p.amount for p in in_period if p.auto), Decimal(0)),
                                   sum((p.amount for p in in_period), Decimal(0))),
        "on_time_rate": _ratio(Decimal(sum(when <= i.due_date for i, when in settled)),
                               Decimal(len(settled))),
        "aged_balance": {k: v.quantize(_Q) for k, v in aged.items()},
        "unapplied_cash": unapplied_total.quantize(_Q),
        "unapplied_cash_age_days": _ratio(unapplied_age, unapplied_total, _Q),
        "average_dispute_resolution_days": _ratio(Decimal(sum(disputes)), Decimal(len(disputes)),
                                                  _Q),
        "top10_concentration": _ratio(sum(positive[:10], Decimal(0)), sum(positive, Decimal(0))),
    }


def bucket(days_past_due: int) -> str:
    if days_past_due <= 0:
        return "current"
    if days_past_due <= 30:
        return "1-30"
    if days_past_due <= 60:
        return "31-60"
    if days_past_due <= 90:
        return "61-90"
    return "90+"


def count_back_dso(items: Iterable[ItemFact], as_of: dt.date, ar: Decimal,
                   block_days: int = 30, max_blocks: int = 24) -> Decimal | None:
    items = list(items)
    remaining, days = ar, Decimal(0)
    if ar <= 0:
        return Decimal(0)
    for block in range(max_blocks):
        end = as_of - dt.timedelta(days=block * block_days)
        begin = end - dt.timedelta(days=block_days)
        sales = sum((i.amount for i in items if begin < i.issue_date <= end), Decimal(0))
        if sales <= 0:
            return None if block == 0 else days.quantize(_Q)
        if remaining <= sales:
            return (days + remaining / sales * block_days).quantize(_Q)
        remaining -= sales
        days += block_days
    return days.quantize(_Q)


# --- loading from the database -----------------------------------------------------------

# The day money arrived: value date, else booking date.
_PAID_ON = func.coalesce(TransactionRow.value_date, TransactionRow.booking_date)


def load(session: Session) -> KpiInput:
    segments = dict(session.execute(select(CustomerRow.customer_id, CustomerRow.segment))
                    .all())
    items: dict[int, ItemFact] = {}
    for row in session.scalars(select(OpenItemRow)):
        fact = ItemFact(row.customer_id, row.entity, row.currency,
                        segments.get(row.customer_id) or "", row.amount, row.issue_date,
                        row.due_date)
        settled_in_erp = row.amount - row.erp_open_amount
        if settled_in_erp:
            fact.settlements.append((row.updated_at.date(), settled_in_erp))
        items[row.id] = fact
    live = (ApplicationRow.reversed_by_id.is_(None), ApplicationRow.reverses_id.is_(None))
    for item_id, amount, value_date, booking_date in session.execute(
            select(ApplicationLineRow.item_id, ApplicationLineRow.amount,
                   TransactionRow.value_date, TransactionRow.booking_date)
            .join(ApplicationRow, ApplicationRow.id == ApplicationLineRow.application_id)
            .join(TransactionRow, TransactionRow.id == ApplicationRow.transaction_id)
            .where(ApplicationLineRow.item_id.is_not(None),
                   ApplicationLineRow.kind.in_(("item", "discount")), *live)):
        when = value_date or booking_date
        if item_id in items and when is not None:
            items[item_id].settlements.append((when, amount))
    auto = set(session.scalars(select(ApplicationRow.transaction_id).where(
        ApplicationRow.status == "auto", *live)))
    payments = [PaymentFact(when, amount, tid in auto, None, currency)
                for tid, amount, when, currency in session.execute(
                    select(TransactionRow.id, TransactionRow.amount, _PAID_ON,
                           TransactionRow.currency)
                    .where(TransactionRow.amount > 0, _PAID_ON.is_not(None),
                           TransactionRow.state.not_in(("not_receivable", "linked", "pending"))))]
    disputes = [(r.resolved_at.date(), (r.resolved_at - r.opened_at).days)
                for r in session.scalars(select(DisputeRow).where(
                    DisputeRow.status == "resolved", DisputeRow.resolved_at.is_not(None)))
                if r.resolved_at is not None]
    unapplied = [(customer or "", currency, when, amount)
                 for customer, currency, when, amount in session.execute(
                     select(ApplicationRow.customer_id, TransactionRow.currency, _PAID_ON,
                            ApplicationLineRow.amount)
                     .join(ApplicationRow, ApplicationRow.id == ApplicationLineRow.application_id)
                     .join(TransactionRow, TransactionRow.id == ApplicationRow.transaction_id)
                     .where(ApplicationLineRow.kind == "unapplied", _PAID_ON.is_not(None), *live))]
    return KpiInput(list(items.values()), payments, disputes, unapplied)


DIMENSIONS: dict[str, Callable[[ItemFact], str]] = {
    "entity": lambda i: i.entity, "currency": lambda i: i.currency,
    "segment": lambda i: i.segment,
}


def compute_by(data: KpiInput, as_of: dt.date, dimension: str,
               period_days: int = 90) -> dict[str, dict[str, Any]]:
    """The KPIs per entity, currency or segment (payment KPIs split by currency only)."""
    key = DIMENSIONS[dimension]
    groups: dict[str, list[ItemFact]] = defaultdict(list)
    for item in data.items:
        groups[key(item) or "-"].append(item)
    result = {}
    for value, items in sorted(groups.items()):
        payments = [p for p in data.payments if dimension != "currency" or p.currency == value]
        unapplied = [u for u in data.unapplied if dimension != "currency" or u[1] == value]
        result[value] = compute(KpiInput(items, payments, data.dispute_days, unapplied), as_of,
                                period_days)
    return result


def to_json(figures: dict[str, Any]) -> str:
    """Amounts as exact strings; rates and day counts as JSON numbers written from Decimal."""
    amounts = {"receivables", "credit_sales", "unapplied_cash"}

    def encode(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            inner_amounts = key == "aged_balance"
            return {k: (f"{v:f}" if inner_amounts and isinstance(v, Decimal) else encode(v, k))
                    for k, v in value.items()}
        if isinstance(value, Decimal):
            return f"{value:f}" if key in amounts else _Number(value)
        return value

    text = json.dumps(encode(figures), default=_number_text, indent=2)
    return text.replace('"@@num:', "").replace(':num@@"', "")


class _Number:
    __slots__ = ("value",)

    def __init__(self, value: Decimal) -> None:
        self.value = value


def _number_text(value: Any) -> str:
    if isinstance(value, _Number):
        return f"@@num:{value.value:f}:num@@"  # unquoted by to_json
    raise TypeError(f"cannot serialise {type(value).__name__}")
