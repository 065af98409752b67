"""The decision rules: auto only when confident, unrivalled and inside the tolerances."""

from __future__ import annotations

from decimal import Decimal

from reconciler.domain import (
    Adjustment,
    AdjustmentKind,
    Allocation,
    Decision,
    Evidence,
    ItemKey,
    Proposal,
)
from reconciler.settings import MatchingSettings, Tolerance
from rules.decision import decide
from rules.tolerance import DEFAULT_AUTO_MARGIN, tolerance_for

SETTINGS = MatchingSettings()
KEY = ItemKey("MAIN", "INV-1")


def proposal(confidence: float, *adjustments: tuple[AdjustmentKind, str],
             items: tuple[ItemKey, ...] = (KEY,), currency: str = "EUR") -> Proposal:
    return Proposal(1, "reference", "C1", tuple(Allocation(k, Decimal("100.00")) for k in items),
                    tuple(Adjustment(kind, Decimal(amount)) for kind, amount in adjustments),
                    confidence, currency=currency)


def test_nothing_proposed_is_unmatched() -> None:
    verdict = decide([], SETTINGS)
    assert verdict.decision is Decision.UNMATCHED and verdict.proposal is None


def test_confident_clean_proposal_is_auto() -> None:
    verdict = decide([proposal(0.97)], SETTINGS)
    assert verdict.decision is Decision.AUTO
    assert verdict.proposal == proposal(0.97)


def test_below_auto_threshold_is_suggested_with_the_reason() -> None:
    verdict = decide([proposal(0.94)], SETTINGS)
    assert verdict.decision is Decision.SUGGEST
    assert any("auto threshold" in r for r in verdict.reasons)


def test_below_suggest_threshold_is_unmatched() -> None:
    assert decide([proposal(0.2)], SETTINGS).decision is Decision.UNMATCHED


def test_close_competitor_blocks_auto() -> None:
    rival = proposal(0.99 - DEFAULT_AUTO_MARGIN, items=(ItemKey("MAIN", "INV-2"),))
    verdict = decide([proposal(0.99), rival], SETTINGS)
    assert verdict.decision is Decision.SUGGEST
    assert any("competing" in r for r in verdict.reasons)
    far = proposal(0.5, items=(ItemKey("MAIN", "INV-2"),))
    assert decide([proposal(0.99), far], SETTINGS).decision is Decision.AUTO


def test_bank_charge_inside_tolerance_is_auto_outside_is_not() -> None:
    inside = proposal(0.97, (AdjustmentKind.BANK_CHARGE, "-15.00"))
    outside = proposal(0.97, (AdjustmentKind.BANK_CHARGE, "-15.01"))
    assert decide([inside], SETTINGS).decision is Decision.AUTO
    assert decide([outside], SETTINGS).decision is Decision.SUGGEST


def test_tolerances_are_per_currency() -> None:
    settings = MatchingSettings(tolerances={"JPY": Tolerance(Decimal("2000"), Decimal("500"))})
    assert tolerance_for(settings, "jpy").bank_charge == Decimal("2000")
    yen = proposal(0.97, (AdjustmentKind.BANK_CHARGE, "-1500"), currency="JPY")
    assert decide([yen], settings).decision is Decision.AUTO
    assert decide([proposal(0.97, (AdjustmentKind.BANK_CHARGE, "-1500"))],
                  settings).decision is Decision.SUGGEST


def test_write_off_limits() -> None:
    small = proposal(0.97, (AdjustmentKind.WRITE_OFF, "-4.00"))
    larger = proposal(0.97, (AdjustmentKind.WRITE_OFF, "-20.00"))
    huge = proposal(0.97, (AdjustmentKind.WRITE_OFF, "-80.00"))
    assert decide([small], SETTINGS).decision is Decision.AUTO
    assert decide([larger], SETTINGS).decision is Decision.SUGGEST
    verdict = decide([huge], SETTINGS)
    assert verdict.decision is Decision.SUGGEST
    assert any("approver" in r for r in verdict.reasons)


def test_unapplied_cash_and_empty_proposals_are_never_auto() -> None:
    assert decide([proposal(0.99, (AdjustmentKind.UNAPPLIED, "5.00"))],
                  SETTINGS).decision is Decision.SUGGEST
    assert decide([proposal(0.99, items=())], SETTINGS).decision is Decision.SUGGEST


def test_thresholds_come_from_settings() -> None:
    strict = MatchingSettings(auto_threshold=0.99, suggest_threshold=0.5)
    assert decide([proposal(0.97)], strict).decision is Decision.SUGGEST
    assert decide([proposal(0.45)], strict).decision is Decision.UNMATCHED


def _evidence(*pieces: tuple[str, float]) -> tuple[Evidence, ...]:
    return tuple(Evidence("reference", kind, kind, weight) for kind, weight in pieces)


def partial(confidence: float, *pieces: tuple[str, float],
            adjustments: tuple[Adjustment, ...] = ()) -> Proposal:
    return Proposal(1, "reference", "C1", (Allocation(KEY, Decimal("60.00")),), adjustments,
                    confidence, _evidence(*pieces))


IDENTIFIED = (("reference", 0.9), ("iban", 0.75), ("date", 0.2))


def test_identified_partial_payment_is_applied_the_rest_stays_open() -> None:
    verdict = decide([partial(0.64, *IDENTIFIED, ("partial", 0.35))], SETTINGS)
    assert verdict.decision is Decision.AUTO
    assert any("rest stays open" in r for r in verdict.reasons)


def test_identified_overpayment_goes_to_the_customers_account() -> None:
    excess = (Adjustment(AdjustmentKind.UNAPPLIED, Decimal("40.00")),)
    verdict = decide([partial(0.69, *IDENTIFIED, ("overpayment", 0.3), adjustments=excess)],
                     SETTINGS)
    assert verdict.decision is Decision.AUTO
    assert any("customer's account" in r for r in verdict.reasons)


def test_partial_payment_without_the_payer_is_suggested() -> None:
    verdict = decide([partial(0.6, ("reference", 0.95), ("date", 0.2), ("partial", 0.35))],
                     SETTINGS)
    assert verdict.decision is Decision.SUGGEST


def test_partial_payment_with_any_doubt_is_suggested() -> None:
    for doubt in ("conflict", "ambiguity", "closed", "unresolved", "date-implausible"):
        verdict = decide([partial(0.5, *IDENTIFIED, ("partial", 0.35), (doubt, 0.25))],
                         SETTINGS)
        assert verdict.decision is Decision.SUGGEST, doubt


def test_partial_payment_with_a_close_rival_is_suggested() -> None:
    rival = proposal(0.93, items=(ItemKey("MAIN", "INV-2"),))
    verdict = decide([partial(0.64, *IDENTIFIED, ("partial", 0.35)), rival], SETTINGS)
    assert verdict.decision is Decision.SUGGEST


def test_short_payment_written_off_keeps_the_ordinary_tolerances() -> None:
    write_off = (Adjustment(AdjustmentKind.WRITE_OFF, Decimal("-60.00")),)
    verdict = decide([partial(0.64, *IDENTIFIED, ("partial", 0.35), adjustments=write_off)],
                     SETTINGS)
    assert verdict.decision is Decision.SUGGEST


def test_overpayment_that_further_items_explain_is_suggested() -> None:
    excess = (Adjustment(AdjustmentKind.UNAPPLIED, Decimal("40.00")),)
    several = proposal(0.53, items=(KEY, ItemKey("MAIN", "INV-2")))
    verdict = decide([partial(0.69, *IDENTIFIED, ("overpayment", 0.3), adjustments=excess),
                      several], SETTINGS)
    assert verdict.decision is Decision.SUGGEST


def test_excess_as_large_as_the_item_is_suggested() -> None:
    excess = (Adjustment(AdjustmentKind.UNAPPLIED, Decimal("60.00")),)
    verdict = decide([partial(0.69, *IDENTIFIED, ("overpayment", 0.3), adjustments=excess)],
                     SETTINGS)
    assert verdict.decision is Decision.SUGGEST
