"""The decision rules: auto-apply, suggest to a reviewer, or leave unmatched.

Precision first: an unapplied payment costs a reviewer a minute, a wrong application costs a
customer relationship and a reversal. So a proposal is applied automatically only when all of
these hold, and each failed condition is a reason the reviewer sees:

- its confidence is at least `settings.auto_threshold`;
- no close competitor: it leads the next proposal by more than the auto margin;
- its differences are inside the currency's tolerances (bank charge, write-off), no cash is
  left unapplied, and it settles at least one item;
- no write-off above `settings.write_off_limit` (that one needs an approver).

Otherwise it is suggested when its confidence reaches `settings.suggest_threshold`, and left
unmatched (the exception queue) below that.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reconciler.domain import Decision, Proposal
from reconciler.settings import MatchingSettings
from rules.tolerance import auto_margin, tolerance_problems, write_off_above_limit


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
        blocking.append(f"confidence {score:.2f} below the auto threshold "
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
        return Verdict(Decision.SUGGEST, best, tuple(blocking))
    return Verdict(Decision.AUTO, best, (
        f"confidence {score:.2f} at or above {settings.auto_threshold:.2f}",
        f"leads the next proposal ({second:.2f}) by more than {margin:.2f}",
        "differences inside the tolerances",
    ))


__all__ = ["Verdict", "decide"]
