"""The registry: built from entry points, refuses bad configuration, distrusts plug-ins."""

from __future__ import annotations

import dataclasses
import importlib.metadata
from collections.abc import Sequence
from decimal import Decimal

import pytest

from matchers import ENTRY_POINT_GROUP, Matcher
from matchers.candidates import CandidateView
from matchers.registry import load_registry
from reconciler.domain import Allocation, ItemKey, Payment, Proposal, Severity
from reconciler.errors import ConfigError
from reconciler.settings import MatchingSettings
from tests.matchers.builders import IBAN_C1, SETTINGS, default_customers, item, pay, view

BUILTINS = ("reference", "combination", "fuzzy_name")


class _EntryPoint:
    """A stand-in for importlib's EntryPoint that loads an object defined in this module."""

    def __init__(self, name: str, target: object, value: str | None = None) -> None:
        self.name = name
        self.value = value or f"tests.matchers.test_registry:{name}"
        self._target = target

    def load(self) -> object:
        return self._target


def _installed() -> list[_EntryPoint]:
    found = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    return [_EntryPoint(e.name, e.load(), e.value) for e in found]


class ExactAmountMatcher:
    """A third-party matcher: settles any open item of exactly the payment amount."""

    name = "exact_amount"
    version = "0.1"

    def __init__(self, settings: MatchingSettings) -> None:
        self.settings = settings

    def propose(self, payment: Payment, view: CandidateView) -> Sequence[Proposal]:
        return [Proposal(payment.id, self.name, i.customer_id, (Allocation(i.key, i.open_amount),),
                         confidence=0.5, explanation="same amount")
                for i in view.items_with_amount(payment.amount, payment.currency)]


class RaisingMatcher(ExactAmountMatcher):
    name = "raising"

    def propose(self, payment: Payment, view: CandidateView) -> Sequence[Proposal]:
        raise RuntimeError("boom")


class SloppyMatcher(ExactAmountMatcher):
    """Returns every kind of invalid proposal."""

    name = "sloppy"

    def propose(self, payment: Payment, view: CandidateView) -> Sequence[Proposal]:
        good = ItemKey("MAIN", "INV-1")
        base = Proposal(payment.id, self.name, "C1", (Allocation(good, payment.amount),),
                        confidence=0.4)
        return [
            dataclasses.replace(base, confidence=1.5),
            dataclasses.replace(base, allocations=(Allocation(good, Decimal("1.00")),)),
            dataclasses.replace(base, allocations=(Allocation(ItemKey("MAIN", "NOPE"),
                                                              payment.amount),)),
            dataclasses.replace(base, allocations=(Allocation(good, Decimal("50.00")),
                                                   Allocation(good, Decimal("50.00")))),
            dataclasses.replace(base, matcher="reference"),
            base,  # the only valid one
        ]


def test_builtins_come_from_entry_points_in_configured_order() -> None:
    registry = load_registry(SETTINGS)
    assert registry.names == BUILTINS
    assert registry.actor("reference") == "matcher:reference@1.0.0"


def test_order_and_disabled_come_from_settings() -> None:
    settings = MatchingSettings(matchers=("fuzzy_name", "reference", "combination"),
                                disabled=("combination",))
    assert load_registry(settings).names == ("fuzzy_name", "reference")


def test_unknown_name_is_refused() -> None:
    with pytest.raises(ConfigError, match="unknown matcher 'nope'"):
        load_registry(MatchingSettings(matchers=("reference", "nope")))
    with pytest.raises(ConfigError, match="unknown matcher 'nope'"):
        load_registry(MatchingSettings(disabled=("nope",)))


def test_duplicate_registration_is_refused() -> None:
    points = [*_installed(), _EntryPoint("reference", ExactAmountMatcher)]
    with pytest.raises(ConfigError, match="registered twice"):
        load_registry(SETTINGS, points)


def test_name_must_match_the_registration() -> None:
    points = [*_installed(), _EntryPoint("other_name", ExactAmountMatcher)]
    with pytest.raises(ConfigError, match="calls itself"):
        load_registry(MatchingSettings(matchers=("other_name",)), points)


def test_third_party_matcher_works_like_a_builtin() -> None:
    points = [*_installed(), _EntryPoint("exact_amount", ExactAmountMatcher)]
    settings = MatchingSettings(matchers=(*BUILTINS, "exact_amount"))
    registry = load_registry(settings, points)
    assert registry.names == (*BUILTINS, "exact_amount")
    assert isinstance(registry.matchers[-1], Matcher)
    v = view(default_customers(), [item("INV-1", "100.00"), item("INV-2", "7.00", "C2")])
    proposals, diagnostics = registry.run(pay("7.00"), v)
    assert diagnostics == []
    assert [p.matcher for p in proposals] == ["exact_amount"]
    assert proposals[0].currency == "EUR"  # filled in by the registry


def test_raising_matcher_becomes_a_diagnostic_and_the_chain_goes_on() -> None:
    points = [*_installed(), _EntryPoint("raising", RaisingMatcher)]
    registry = load_registry(MatchingSettings(matchers=("raising", "reference")), points)
    v = view(default_customers(), [item("INV-1", "100.00")])
    proposals, diagnostics = registry.run(pay("100.00", "INV-1"), v)
    assert [p.matcher for p in proposals] == ["reference"]
    assert len(diagnostics) == 1
    assert diagnostics[0].severity is Severity.ERROR
    assert "raising" in diagnostics[0].message and "boom" in diagnostics[0].message


def test_invalid_proposals_become_diagnostics() -> None:
    points = [*_installed(), _EntryPoint("sloppy", SloppyMatcher)]
    registry = load_registry(MatchingSettings(matchers=("sloppy",)), points)
    closed = [item("INV-0", "100.00", open_amount="0")]
    v = view(default_customers(), [item("INV-1", "100.00")], closed=closed)
    proposals, diagnostics = registry.run(pay("100.00"), v)
    assert len(proposals) == 1
    assert len(diagnostics) == 5
    messages = " | ".join(d.message for d in diagnostics)
    for problem in ("confidence", "sum to", "not a known item", "appears twice", "signed by"):
        assert problem in messages


def test_agreeing_matchers_merge_and_raise_confidence() -> None:
    registry = load_registry(SETTINGS)
    v = view(default_customers(), [item("INV-1", "100.00"), item("INV-2", "55.00")])
    proposals, _ = registry.run(pay("100.00", "INV-1", iban=IBAN_C1), v)
    assert len(proposals) == 1
    merged = proposals[0]
    matchers_seen = {e.matcher for e in merged.evidence}
    assert {"reference", "combination", "registry"} <= matchers_seen
    alone = load_registry(MatchingSettings(matchers=("reference",))).run(
        pay("100.00", "INV-1", iban=IBAN_C1), v)[0][0]
    assert merged.confidence >= alone.confidence
    assert "also proposed by combination" in merged.explanation


def test_best_explanation_says_why_alternatives_lost() -> None:
    registry = load_registry(SETTINGS)
    v = view(default_customers(), [item("A", "50.00"), item("B", "50.00")])
    proposals, _ = registry.run(pay("50.00", iban=IBAN_C1), v)
    assert len(proposals) == 2
    assert "alternatives that lost" in proposals[0].explanation
