"""Turning evidence into one confidence, and into words a reviewer can check.

Each `Evidence` carries a weight in [0, 1]. Supporting evidence (a reference hit, an exact
amount, a known IBAN, a name, a learned alias, a plausible date, two matchers agreeing) is
combined as independent signals: confidence = 1 - prod(1 - w). Against that, penalties (an
ambiguity, a difference, a conflict, a closed or unknown reference, an incomplete search, an
implausible date) each remove their weight as a fraction: confidence *= prod(1 - w).
Within a kind only the strongest piece counts, so the same fact seen by two matchers is not
counted twice.

The weights below are calibrated so that, with the default `auto_threshold` 0.95, only these
reach automatic application: a document reference with the exact (or discounted, or
bank-charge-short) amount; a known IBAN with one unique exact item; a known IBAN with a unique
exact pair. Everything else is a suggestion at best.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from reconciler.domain import Evidence, OpenItem

# Support.
CREDITOR_REFERENCE = 0.95  # RF check digits verified, or the item's own payment reference
DOCUMENT_NUMBER = 0.9  # the full document number, prefix included
DIGITS_LABELLED = 0.85  # the number after an invoice word ("Rechnung 2026/123")
DIGITS_BARE = 0.75  # a bare number that equals an item's digits
REFERENCE_IN_SET = 0.55  # a combination that contains every cited item
PAYER_BY_REFERENCE = 0.4  # the payer is known only through the items it cites
AMOUNT_EXACT = 0.8
AMOUNT_BANK_CHARGE = 0.65
AMOUNT_TOLERANCE_SET = 0.35  # several items whose sum is only inside the tolerance
AMOUNT_WRITE_OFF = 0.5
AMOUNT_EXTRA_ITEM = 0.04  # less per further item in a combination (coincidences grow)
IBAN = 0.75
LEARNED_IBAN = 0.7
NAME_EXACT = 0.6
ALIAS = 0.6
NAME_FUZZY_MAX = 0.55
DATE = 0.2
AGREEMENT = 0.25

# Penalties.
AMBIGUOUS = 0.5
# The fewest items fit exactly and so does a set of another size: fewer items remain the
# likelier reading (so the set still ranks first among the suggestions), but no sure one.
OTHER_READING = 0.2
PARTIAL = 0.35
OVERPAYMENT = 0.3
OVERPAYMENT_LARGE = 0.6  # the excess is at least what the items settle: more invoices paid?
WRITE_OFF = 0.15
OTHER_CUSTOMER = 0.45
NAME_CONFLICT = 0.35  # the payer's name is another customer's than the items'
CLOSED_REFERENCE = 0.3
UNRESOLVED_REFERENCE = 0.3
NOT_CITED = 0.45  # the payment cites items that are not in this set
NEAR_MISS = 0.25  # ... but one keystroke away from an item in it
# One keystroke away from the only item of an exact, unique set of the IBAN's owner, and the
# cited number is not that customer's open item: the payer mistyped our number.
MISTYPED_REFERENCE = 0.6
PADDED_SET = 0.35  # named items plus unnamed ones that only bring the sum inside the tolerance
INCOMPLETE = 0.15
GROUP = 0.1
DATE_IMPLAUSIBLE = 0.3

PENALTY_KINDS = frozenset({
    "ambiguity", "difference", "conflict", "closed", "unresolved", "incomplete", "group",
    "date-implausible", "partial", "overpayment",
})
# The penalties of a payment that settles its items partly (the rest stays open) or over
# (the excess stays on the customer's account): the amount differs, the items may be right.
# `rules.decision` may still apply such a proposal when the items are identified beyond doubt.
AMOUNT_DIFFERENCE_KINDS = frozenset({"partial", "overpayment"})


def is_penalty(evidence: Evidence) -> bool:
    return evidence.kind in PENALTY_KINDS


def confidence(evidence: Iterable[Evidence]) -> float:
    """Support combined as independent signals, then reduced by each penalty; in [0, 1]."""
    support: dict[str, float] = {}
    penalty: dict[str, float] = {}
    # Every proposal of every line is scored: `is_penalty` inline, one look-up per piece.
    for piece in evidence:
        kind = piece.kind
        table = penalty if kind in PENALTY_KINDS else support
        weight = piece.weight
        if not 0.0 <= weight <= 1.0:  # a plug-in's weight (or NaN), clamped as min(max())
            weight = min(1.0, max(0.0, weight))
        if weight > table.get(kind, 0.0):  # a zero weight multiplies by one: left out
            table[kind] = weight
    doubt = 1.0
    for weight in support.values():
        doubt *= 1.0 - weight
    keep = 1.0
    for weight in penalty.values():
        keep *= 1.0 - weight
    return round(max(0.0, min(1.0, (1.0 - doubt) * keep)), 4)


def explain(matcher: str, evidence: Sequence[Evidence], score: float) -> str:
    """One line per piece: `+0.90 reference: 'INV-1' in the remittance text -> ACME/INV-1`."""
    lines = [f"{matcher}: confidence {score:.2f}"]
    for piece in evidence:
        kind = piece.kind
        sign = "-" if kind in PENALTY_KINDS else "+"
        lines.append(f"  {sign}{piece.weight:.2f} {kind}: {piece.detail}")
    return "\n".join(lines)


def merge(evidence: Iterable[Evidence]) -> tuple[Evidence, ...]:
    """Evidence without repeats, in first-seen order."""
    seen: set[tuple[str, str, str]] = set()
    out: list[Evidence] = []
    for piece in evidence:
        key = (piece.matcher, piece.kind, piece.detail)
        if key not in seen:
            seen.add(key)
            out.append(piece)
    return tuple(out)


# A payment a few days before the invoice date is a clock or a booking-date quirk; four
# months after the due date is late but still plausibly for these items.
_BEFORE_ISSUE = dt.timedelta(days=3)
_AFTER_DUE = dt.timedelta(days=120)


def date_evidence(matcher: str, items: Sequence[OpenItem], paid_on: dt.date) -> Evidence | None:
    """A payment before the invoice existed is suspicious; one around the due date is normal."""
    if not items:
        return None
    first_issue = min([i.issue_date for i in items])
    last_due = max([i.due_date for i in items])
    if paid_on < first_issue - _BEFORE_ISSUE:
        return Evidence(matcher, "date-implausible",
                        f"paid {paid_on} before the invoice date {first_issue}", DATE_IMPLAUSIBLE)
    if paid_on <= last_due + _AFTER_DUE:
        return Evidence(matcher, "date", f"paid {paid_on}, due {last_due}", DATE)
    return None
