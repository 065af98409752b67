"""The decision rules: auto-apply, suggest to a reviewer, or leave unmatched.

Precision first: an unapplied payment costs a reviewer a minute, a wrong application costs a
customer relationship and a reversal. So a proposal is applied automatically only when all of
these hold, and each failed condition is a reason the reviewer sees:

- its confidence is at least `settings.auto_threshold`;
- no close competitor: it leads the next proposal by more than the auto margin;
- its differences are inside the currency's tolerances (bank charge, write-off), no cash is
  left unapplied, and it settles at least one item;
- no write-off above `settings.write_off_limit` (that one needs an approver).

A partial payment (the item stays open for the rest, a late discount included) or an
overpayment (the excess goes to unapplied cash on the customer's account) fits its item less
well, yet the item can be beyond doubt: then it is applied automatically too, when

- it settles exactly one item, and its only penalty is that difference (no conflict, no
  ambiguity, no closed or unknown reference, no implausible date);
- a reference names that item (document number or creditor reference) and the payer is that
  item's customer by IBAN or by name;
- that identification alone reaches `settings.auto_threshold` and leads every competitor by
  more than the auto margin; no competitor explains the difference by further items (the
  cited item among others); an overpayment also names the customer whose account keeps it.

Otherwise it is suggested when its confidence reaches `settings.suggest_threshold`, and left
unmatched (the exception queue) below that.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reconciler.domain import AdjustmentKind, Decision, Evidence, Proposal
from reconciler.settings import MatchingSettings
from rules.tolerance import auto_margin, tolerance_problems, write_off_above_limit

# Evidence kinds (see `matchers.scoring`) for the partial / overpayment path.
DIFFERENCE_KINDS = frozenset({"partial", "overpayment"})
PAYER_KINDS = frozenset({"iban", "name"})
DOUBT_KINDS = frozenset({"ambiguity", "difference", "conflict", "closed", "unresolved",
                         "incomplete", "group", "date-implausible"})
MIN_REFERENCE = 0.85  # a labelled number, the full document number or a creditor reference
MIN_PAYER = 0.6  # the IBAN on file, or the customer's exact name


@dataclass(frozen=True, slots=True)
class Verdict:
    """The decision on the best proposal (`ranked[0]`) and the reasons, for the journal/UI."""

    decision: Decision
    proposal: Proposal | None
    reasons: tuple[str, ...]


def decide(ranked: Sequence[Proposal], settings: MatchingSettings) -> Verdict:
    """Decide on `ranked[0]`, the best of the payment's proposals (registry order).

    The rest of `ranked` are its competitors: if any of them is within the auto margin (or
    above, when the caller's order is off), the best is not applied automatically.
    """
    if not ranked:
        return Verdict(Decision.UNMATCHED, None, ("no matcher proposed anything",))
    best = ranked[0]
    score = best.confidence
    if score < settings.suggest_threshold:
        return Verdict(Decision.UNMATCHED, best, (
            f"confidence {score:.2f} below the suggest threshold "
            f"{settings.suggest_threshold:.2f}",))
    blocking: list[str] = []
    if score < settings.auto_threshold:
        # Three decimals: 0.949 must not read as the 0.95 it falls short of.
        blocking.append(f"confidence {score:.3f} below the auto threshold "
                        f"{settings.auto_threshold:.2f}")
    margin = auto_margin(settings)
    second = max((p.confidence for p in ranked[1:]), default=0.0)
    if score - second <= margin:
        blocking.append(f"a competing proposal at {second:.2f} is within {margin:.2f} of "
                        f"{score:.2f}")
    blocking.extend(tolerance_problems(best, settings))
    if write_off_above_limit(best, settings):
        blocking.append(f"write-off above the limit {settings.write_off_limit}: approver only")
    if blocking:
        identified = _identified_despite_difference(best, ranked[1:], settings)
        if identified is not None:
            return Verdict(Decision.AUTO, best, identified)
        return Verdict(Decision.SUGGEST, best, tuple(blocking))
    return Verdict(Decision.AUTO, best, (
        f"confidence {score:.2f} at or above {settings.auto_threshold:.2f}",
        f"leads the next proposal ({second:.2f}) by more than {margin:.2f}",
        "differences inside the tolerances",
    ))


def identification(evidence: Sequence[Evidence]) -> float:
    """How sure the support alone makes us of the items (penalties left out), in [0, 1]."""
    strongest: dict[str, float] = {}
    for piece in evidence:
        if piece.kind in DOUBT_KINDS or piece.kind in DIFFERENCE_KINDS:
            continue
        strongest[piece.kind] = max(strongest.get(piece.kind, 0.0), min(1.0, piece.weight))
    doubt = 1.0
    for weight in strongest.values():
        doubt *= 1.0 - max(0.0, weight)
    return round(1.0 - doubt, 4)


def _identified_despite_difference(best: Proposal, others: Sequence[Proposal],
                                   settings: MatchingSettings) -> tuple[str, ...] | None:
    """The reasons to apply a partial payment or an overpayment automatically, or None.

    The amount is what differs; the item is identified by its reference and by the payer
    being its customer, so applying it settles what was paid and leaves the rest visible
    (open on the item, or unapplied on the customer's account) for collections.
    """
    kinds = {e.kind for e in best.evidence}
    if not kinds & DIFFERENCE_KINDS or kinds & DOUBT_KINDS or len(best.allocations) != 1:
        return None
    if not any(e.kind == "reference" and e.weight >= MIN_REFERENCE for e in best.evidence):
        return None
    if not any(e.kind in PAYER_KINDS and e.weight >= MIN_PAYER for e in best.evidence):
        return None
    if any(a.kind is not AdjustmentKind.UNAPPLIED for a in best.adjustments):
        return None  # charges and write-offs take the ordinary path and its tolerances
    if best.adjustments and not best.customer_id:
        return None
    if best.adjusted >= best.allocated:
        # An excess as large as the item itself is more likely further invoices paid than
        # an overpayment of this one.
        return None
    if best.confidence < settings.suggest_threshold:
        return None
    if any(best.item_keys < other.item_keys for other in others):
        # Another proposal explains the difference by further items of the payer (several
        # invoices paid, some of them listed): which it is, a person decides.
        return None
    second = max((p.confidence for p in others), default=0.0)
    sure = identification(best.evidence)
    margin = auto_margin(settings)
    if sure < settings.auto_threshold or sure - second <= margin:
        return None
    what = "overpayment kept on the customer's account" if best.adjustments \
        else "partial payment: the rest stays open on the item"
    return (f"{what}; the item is identified beyond the amount: {sure:.2f} at or above "
            f"{settings.auto_threshold:.2f} by its reference and its customer as payer",
            f"leads the next proposal ({second:.2f}) by more than {margin:.2f}")


__all__ = ["Verdict", "decide", "identification"]
