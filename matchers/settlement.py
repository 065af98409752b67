"""How a payment settles a chosen set of items: allocations, adjustments, and how well it fits.

Sign convention (shared with the engine): sum(allocation.amount) + sum(adjustment.amount) =
payment amount. An allocation settles `amount + discount` of its item. A payment short by
bank charges settles the items in full and carries a *negative* `bank_charge` adjustment; a
short payment written off carries a negative `write_off`; an overpayment keeps the excess as
a positive `unapplied` adjustment on the customer's account.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from matchers import scoring
from matchers.text import says_discount
from reconciler.domain import Adjustment, AdjustmentKind, Allocation, Evidence, OpenItem, Payment
from reconciler.money import ZERO, format_amount, quantize
from reconciler.settings import MatchingSettings

MAX_DISCOUNT_CHOICES = 10  # items whose discount is tried on or off one by one
WRITE_OFF_SHARE = 10  # a write-off is at most a tenth of what the items call for


class Fit(enum.StrEnum):
    EXACT = "exact"
    DISCOUNT = "discount"  # exact once the allowed cash discount is taken
    BANK_CHARGE = "bank_charge"  # short by no more than the bank-charge tolerance
    WRITE_OFF = "write_off"  # short beyond it, under the write-off limit
    PARTIAL = "partial"
    OVERPAYMENT = "overpayment"
    LATE_DISCOUNT = "late_discount"  # short by exactly a discount whose date has passed


@dataclass(frozen=True, slots=True)
class Settlement:
    fit: Fit
    allocations: tuple[Allocation, ...]
    adjustments: tuple[Adjustment, ...]
    difference: Decimal  # cash the items called for minus the payment (positive: short)
    detail: str


_ZERO_IN: dict[str, Decimal] = {}  # zero in each currency's minor unit, rounded once


def discount_of(item: OpenItem, payment: Payment) -> Decimal:
    """The cash discount the payer may take on `item` when paying on the value date."""
    discount = item.discount_on(payment.value_date)
    if discount is ZERO:  # no discount (most items): nothing to round
        zero = _ZERO_IN.get(item.currency)
        if zero is None:
            zero = _ZERO_IN[item.currency] = quantize(ZERO, item.currency)
        return zero
    return quantize(discount, item.currency)


def late_discount_of(item: OpenItem, payment: Payment) -> Decimal:
    """The discount the payer was no longer entitled to on the value date (zero otherwise)."""
    if not item.discount_rate or item.discount_due_date is None or item.open_amount <= ZERO:
        return ZERO
    if payment.value_date <= item.discount_due_date:
        return ZERO
    return quantize(item.open_amount * item.discount_rate, item.currency)


def _late_discount(items: Sequence[OpenItem], discounted: Sequence[bool], payment: Payment,
                   difference: Decimal) -> Settlement | None:
    # A shortfall of exactly the expired discount is not a bank charge: the customer took a
    # discount too late. The discount stays open on the item for a reviewer (or dunning).
    late = [late_discount_of(i, payment) if not d else ZERO
            for i, d in zip(items, discounted, strict=True)]
    if not any(late) or sum(late, ZERO) != difference:
        return None
    allocations = []
    for item, take, short in zip(items, discounted, late, strict=True):
        discount = discount_of(item, payment) if take else ZERO
        allocations.append(Allocation(item.key, item.open_amount - discount - short, discount))
    cur = payment.currency
    detail = (f"paid {format_amount(payment.amount, cur)} {cur}: short by "
              f"{format_amount(difference, cur)}, a cash discount taken after its date; "
              f"that much stays open")
    return Settlement(Fit.LATE_DISCOUNT, tuple(allocations), (), difference, detail)


def settle_chosen(items: Sequence[OpenItem], discounted: Sequence[bool],
                  payment: Payment) -> Settlement:
    """Settle `items` in full, taking the discount where `discounted`; the rest is a difference
    (bank charge when short, unapplied when over). Used for combinations already searched."""
    allocations = []
    cash = ZERO
    for item, take in zip(items, discounted, strict=True):
        discount = discount_of(item, payment) if take else ZERO
        allocations.append(Allocation(item.key, item.open_amount - discount, discount))
        cash += item.open_amount - discount
    difference = cash - payment.amount
    taken = sum((a.discount for a in allocations), ZERO)
    if difference == ZERO:
        fit = Fit.DISCOUNT if taken else Fit.EXACT
        return Settlement(fit, tuple(allocations), (), ZERO, _detail(fit, payment, cash, taken))
    if difference > ZERO:
        late = _late_discount(items, discounted, payment, difference)
        if late is not None:
            return late
        adjustment = Adjustment(AdjustmentKind.BANK_CHARGE, -difference,
                                "deducted by an intermediary bank")
        return Settlement(Fit.BANK_CHARGE, tuple(allocations), (adjustment,), difference,
                          _detail(Fit.BANK_CHARGE, payment, cash, taken))
    adjustment = Adjustment(AdjustmentKind.UNAPPLIED, -difference, "overpayment kept on account")
    return Settlement(Fit.OVERPAYMENT, tuple(allocations), (adjustment,), difference,
                      _detail(Fit.OVERPAYMENT, payment, cash, taken))


# The reference and the combination matcher settle the items a payment cites in turn: the
# last settlement is kept and handed out again for the same items, payment and settings (all
# immutable).
_last_settled: tuple[tuple[OpenItem, ...], Payment, MatchingSettings, Settlement] | None = None


def settle(items: Sequence[OpenItem], payment: Payment, settings: MatchingSettings) -> Settlement:
    """The best way `payment` settles exactly these `items`.

    Exact first, then exact with some cash discounts taken, then short within the bank-charge
    tolerance, then short under the write-off limit, else a partial payment (oldest first) or
    an overpayment to unapplied cash.
    """
    global _last_settled
    last = _last_settled
    if last is not None and last[1] is payment and last[2] is settings \
            and len(last[0]) == len(items) \
            and all(a is b for a, b in zip(last[0], items, strict=True)):
        return last[3]
    settlement = _settle(items, payment, settings)
    _last_settled = (tuple(items), payment, settings, settlement)
    return settlement


def _settle(items: Sequence[OpenItem], payment: Payment,
            settings: MatchingSettings) -> Settlement:
    tolerance = settings.tolerance(payment.currency)
    options = _discount_options(items, payment)
    best: tuple[Decimal, tuple[bool, ...]] | None = None
    for flags in options:
        cash = sum((i.open_amount - (discount_of(i, payment) if f else ZERO)
                    for i, f in zip(items, flags, strict=True)), ZERO)
        difference = cash - payment.amount
        if difference >= ZERO and (best is None or difference < best[0]):
            best = (difference, flags)
    if best is not None and best[0] > ZERO and any(best[1]):
        best = (best[0], without_unsaid_discounts(items, best[1], payment, settings))
        best = (_cash(items, best[1], payment) - payment.amount, best[1])
    if best is not None and best[0] > ZERO:
        late = _late_discount(items, best[1], payment, best[0])
        if late is not None:
            return late
    if best is not None and best[0] <= tolerance.bank_charge:
        return settle_chosen(items, best[1], payment)
    total = sum((i.open_amount for i in items), ZERO)
    # A small remainder is written off (under the limit, and small against the invoice);
    # a large one is a partial payment: the rest stays open and is chased.
    if best is not None and best[0] <= settings.write_off_limit \
            and best[0] * WRITE_OFF_SHARE <= total:
        chosen = settle_chosen(items, best[1], payment)
        write_off = Adjustment(AdjustmentKind.WRITE_OFF, -best[0], "short payment written off")
        taken = sum((a.discount for a in chosen.allocations), ZERO)
        return Settlement(Fit.WRITE_OFF, chosen.allocations, (write_off,), best[0],
                          _detail(Fit.WRITE_OFF, payment, total - taken, taken))
    if payment.amount > total:
        return settle_chosen(items, (False,) * len(items), payment)
    return _partial(items, payment, total)


def _cash(items: Sequence[OpenItem], discounted: Sequence[bool], payment: Payment) -> Decimal:
    return sum((i.open_amount - (discount_of(i, payment) if f else ZERO)
                for i, f in zip(items, discounted, strict=True)), ZERO)


def without_unsaid_discounts(items: Sequence[OpenItem], discounted: Sequence[bool],
                             payment: Payment, settings: MatchingSettings) -> tuple[bool, ...]:
    """Drop the discounts of an inexact fit unless the payer mentions one.

    A discount is taken when it makes the amount exact, or when the payer says so; a payment
    that is merely short is short by bank charges, not by a discount plus a small charge.
    """
    flags = tuple(discounted)
    if not any(flags) or says_discount(payment.remittance_text):
        return flags
    plain = (False,) * len(flags)
    short = _cash(items, plain, payment) - payment.amount
    if ZERO <= short <= settings.tolerance(payment.currency).bank_charge:
        return plain
    return flags


def _discount_options(items: Sequence[OpenItem], payment: Payment) -> list[tuple[bool, ...]]:
    eligible = [n for n, item in enumerate(items) if discount_of(item, payment) > ZERO]
    none = (False,) * len(items)
    if not eligible:
        return [none]
    if len(eligible) > MAX_DISCOUNT_CHOICES:
        return [none, tuple(n in eligible for n in range(len(items)))]
    options = []
    for size in range(len(eligible), -1, -1):  # all discounts first: the usual case
        for subset in itertools.combinations(eligible, size):
            options.append(tuple(n in subset for n in range(len(items))))
    return options


def _partial(items: Sequence[OpenItem], payment: Payment, total: Decimal) -> Settlement:
    # Credit notes first (they add to what the payment can settle), then the oldest invoice.
    ordered = sorted(items, key=lambda i: (i.open_amount > ZERO, i.due_date, i.document_number))
    remaining = payment.amount
    allocations = []
    for item in ordered:
        if item.open_amount <= ZERO:
            allocations.append(Allocation(item.key, item.open_amount))
            remaining -= item.open_amount
            continue
        amount = min(item.open_amount, remaining)
        if amount > ZERO:
            allocations.append(Allocation(item.key, amount))
            remaining -= amount
    if remaining != ZERO:  # the credit notes alone exceed the payment: keep the rest on account
        adjustments: tuple[Adjustment, ...] = (
            Adjustment(AdjustmentKind.UNAPPLIED, remaining, "overpayment kept on account"),)
    else:
        adjustments = ()
    return Settlement(Fit.PARTIAL, tuple(allocations), adjustments, total - payment.amount,
                      _detail(Fit.PARTIAL, payment, total, ZERO))


def _detail(fit: Fit, payment: Payment, cash: Decimal, discount: Decimal) -> str:
    cur = payment.currency
    paid = format_amount(payment.amount, cur)
    due = format_amount(cash, cur)
    disc = f" after cash discount {format_amount(discount, cur)}" if discount else ""
    if fit is Fit.EXACT:
        return f"paid {paid} {cur} equals the open amount {due}"
    if fit is Fit.DISCOUNT:
        return f"paid {paid} {cur} equals the open amount{disc}"
    gap = format_amount(abs(cash - payment.amount), cur)
    if fit is Fit.BANK_CHARGE:
        return (f"paid {paid} {cur} for {due}{disc}: {gap} short, inside the bank-charge "
                "tolerance")
    if fit is Fit.WRITE_OFF:
        return f"paid {paid} {cur} for {due}{disc}: {gap} short, written off"
    if fit is Fit.PARTIAL:
        return f"paid {paid} {cur} of {due}: partial payment, {gap} stays open"
    if fit is Fit.OVERPAYMENT:
        return f"paid {paid} {cur} for {due}: {gap} over, kept as unapplied cash"
    raise KeyError(fit)


def partial_evidence(matcher: str) -> Evidence:
    return Evidence(matcher, "difference", "the payer calls it a part payment, yet the items "
                    "would be settled in full", scoring.PARTIAL)


def amount_evidence(matcher: str, settlement: Settlement, items: int = 1) -> list[Evidence]:
    """How well the amount fits, as evidence (support, or a penalty for a difference).

    An exact sum of several items is strong; a sum of several items merely inside the
    bank-charge tolerance is weak, because many sets fall into a window that wide.
    """
    extra = scoring.AMOUNT_EXTRA_ITEM * max(0, items - 1)
    fit = settlement.fit
    detail = settlement.detail
    if fit in (Fit.EXACT, Fit.DISCOUNT):
        return [Evidence(matcher, "amount", detail, round(scoring.AMOUNT_EXACT - extra, 4))]
    if fit is Fit.BANK_CHARGE:
        weight = scoring.AMOUNT_BANK_CHARGE if items == 1 else scoring.AMOUNT_TOLERANCE_SET
        return [Evidence(matcher, "amount", detail, weight)]
    if fit is Fit.WRITE_OFF:
        return [Evidence(matcher, "amount", detail, scoring.AMOUNT_WRITE_OFF),
                Evidence(matcher, "difference", "a write-off needs a reviewer", scoring.WRITE_OFF)]
    if fit is Fit.LATE_DISCOUNT:
        return [Evidence(matcher, "amount", detail, scoring.AMOUNT_WRITE_OFF),
                Evidence(matcher, "partial", "a discount taken after its date: that much "
                         "stays open on the item", scoring.PARTIAL)]
    if fit is Fit.PARTIAL:
        return [Evidence(matcher, "partial", detail, scoring.PARTIAL)]
    settled = sum((a.amount for a in settlement.allocations), ZERO)
    if -settlement.difference >= settled:
        # Paying twice what the named items call for is rarely an overpayment: more likely
        # further invoices the payer did not list. A set that explains it ranks first.
        return [Evidence(matcher, "overpayment", f"{detail}; the excess is at least what the "
                         "items settle", scoring.OVERPAYMENT_LARGE)]
    return [Evidence(matcher, "overpayment", detail, scoring.OVERPAYMENT)]
