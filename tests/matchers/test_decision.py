"""The decision rules: auto only when confident, unrivalled and inside the tolerances."""

from __future__ import annotations

from decimal import Decimal

from reconciler.domain import Adjustment, AdjustmentKind, Allocation, Decision, ItemKey, Proposal
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
