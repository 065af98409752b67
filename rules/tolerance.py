"""Tolerances: how far an automatic application may differ from the items it settles.

Per currency from `settings.tolerance(currency)` (fallback: `default_tolerance`):
`bank_charge` is what intermediary banks may deduct from a credit (booked as a bank charge),
`write_off` the short payment that may be written off without a person. Above
`settings.write_off_limit` a write-off needs an approver, never a matcher.
"""

from __future__ import annotations

from decimal import Decimal

from reconciler.domain import AdjustmentKind, Proposal
from reconciler.money import ZERO, format_amount
from reconciler.settings import MatchingSettings, Tolerance

# Minimum lead of the best proposal over the next one for automatic application.
# (A `MatchingSettings.auto_margin` field, when the settings grow one, takes precedence.)
DEFAULT_AUTO_MARGIN = 0.10


def tolerance_for(settings: MatchingSettings, currency: str | None) -> Tolerance:
    return settings.tolerance(currency or "")


def auto_margin(settings: MatchingSettings) -> float:
    value = getattr(settings, "auto_margin", DEFAULT_AUTO_MARGIN)
    return float(value)


def adjustment_total(proposal: Proposal, kind: AdjustmentKind) -> Decimal:
    return sum((a.amount for a in proposal.adjustments if a.kind is kind), ZERO)


def tolerance_problems(proposal: Proposal, settings: MatchingSettings) -> list[str]:
    """Why the proposal's differences do not allow automatic application (empty: they do)."""
    tolerance = tolerance_for(settings, proposal.currency)
    cur = proposal.currency
    problems: list[str] = []
    charge = -adjustment_total(proposal, AdjustmentKind.BANK_CHARGE)
    if charge < ZERO or charge > tolerance.bank_charge:
        problems.append(f"bank charge {format_amount(charge, cur)} outside the tolerance "
                        f"{format_amount(tolerance.bank_charge, cur)}")
    write_off = abs(adjustment_total(proposal, AdjustmentKind.WRITE_OFF))
    if write_off > min(tolerance.write_off, settings.write_off_limit):
        problems.append(f"write-off {format_amount(write_off, cur)} above the automatic "
                        f"tolerance {format_amount(tolerance.write_off, cur)}")
    unapplied = adjustment_total(proposal, AdjustmentKind.UNAPPLIED)
    if unapplied != ZERO:
        problems.append(f"{format_amount(unapplied, cur)} would stay unapplied on account")
    if not proposal.allocations:
        problems.append("settles no item")
    return problems


def write_off_above_limit(proposal: Proposal, settings: MatchingSettings) -> bool:
    """A write-off this large needs an approver (`settings.write_off_limit`)."""
    return abs(adjustment_total(proposal, AdjustmentKind.WRITE_OFF)) > settings.write_off_limit
