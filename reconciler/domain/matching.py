"""Matching: what matchers read (Payment) and return (Proposal), and what is applied."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from decimal import Decimal

from reconciler.domain.ledger import ItemKey
from reconciler.domain.pickling import pickled_by_fields
from reconciler.money import ZERO


@dataclass(frozen=True, slots=True)
class Payment:
    """What a matcher sees of a stored credit transaction."""

    id: int
    amount: Decimal
    currency: str
    value_date: dt.date
    bank_reference: str | None = None
    counterparty_name: str | None = None
    counterparty_iban: str | None = None
    creditor_reference: str | None = None
    remittance_text: str | None = None
    end_to_end_id: str | None = None
    ultimate_debtor: str | None = None
    account: str | None = None  # our account that received it


class AdjustmentKind(enum.StrEnum):
    DISCOUNT = "discount"  # cash discount taken inside its terms
    BANK_CHARGE = "bank_charge"  # deducted by an intermediary bank
    WRITE_OFF = "write_off"  # small difference written off under the limit
    UNAPPLIED = "unapplied"  # overpayment kept on the customer's account


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Allocation:
    """Part of a payment applied to one item. `discount` settles the item without cash."""

    item: ItemKey
    amount: Decimal
    discount: Decimal = ZERO

    @property
    def settled(self) -> Decimal:
        return self.amount + self.discount


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Adjustment:
    """A non-item line of an application, signed so that allocations + adjustments = payment.

    bank_charge and write_off of a short payment are negative (the items are settled in full,
    the cash fell short); unapplied cash of an overpayment is positive.
    """

    kind: AdjustmentKind
    amount: Decimal
    reason: str = ""


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Evidence:
    """One piece of the explanation: which matcher saw what, and how much it weighs."""

    matcher: str
    kind: str  # "reference", "amount", "iban", "name", "alias", "date", ...
    detail: str
    weight: float = 0.0  # contribution to confidence, in [0, 1] (a score, not money)


class Decision(enum.StrEnum):
    AUTO = "auto"
    SUGGEST = "suggest"
    UNMATCHED = "unmatched"


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Proposal:
    """A matcher's claim: settle these items with this payment, for these reasons.

    Invariant checked by the engine: sum(allocation.amount) + sum(adjustment.amount) equals
    the payment amount; discounts settle items but move no cash.
    """

    payment_id: int
    matcher: str
    customer_id: str | None
    allocations: tuple[Allocation, ...]
    adjustments: tuple[Adjustment, ...] = ()
    confidence: float = 0.0
    evidence: tuple[Evidence, ...] = ()
    explanation: str = ""
    currency: str | None = None  # the payment's; set by the matcher registry when missing

    @property
    def item_keys(self) -> frozenset[ItemKey]:
        return frozenset(a.item for a in self.allocations)

    @property
    def allocated(self) -> Decimal:
        return sum((a.amount for a in self.allocations), ZERO)

    @property
    def adjusted(self) -> Decimal:
        return sum((a.amount for a in self.adjustments), ZERO)


@dataclass(frozen=True, slots=True)
class Application:
    """An applied decision: a payment settled items, with any adjustments."""

    id: int | None
    payment_id: int
    customer_id: str | None
    allocations: tuple[Allocation, ...]
    adjustments: tuple[Adjustment, ...]
    status: str  # "auto" | "manual"
    actor: str
    applied_at: dt.datetime
    reversed_by: int | None = None


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One append-only audit row: who did what, to what, when and why."""

    seq: int
    at: dt.datetime
    actor: str  # "user:alice", "matcher:reference@0.1.0", "system:import"
    action: str  # "application.created", "item.upserted", ...
    subject: str  # "payment:42", "item:ACME/INV-1"
    reason: str = ""
    data: dict[str, object] = field(default_factory=dict)
    prev_hash: str = ""
    hash: str = ""
