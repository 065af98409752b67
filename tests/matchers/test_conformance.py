"""Every registered matcher, built-in or not, on the same fixtures: types, validity,
determinism, no mutation of the view, a docstring and a test module of its own."""

from __future__ import annotations

import importlib.metadata
import pickle
from pathlib import Path

import pytest

from matchers import ENTRY_POINT_GROUP, Matcher
from matchers.candidates import CandidateView, LearnedLink
from matchers.registry import validate
from reconciler.domain import Evidence, ItemStatus, Payment, Proposal
from tests.matchers.builders import (
    IBAN_C1,
    IBAN_C2,
    IBAN_UNKNOWN,
    SETTINGS,
    TODAY,
    customer,
    default_customers,
    item,
    pay,
    view,
)

ENTRY_POINTS = sorted(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP),
                      key=lambda e: e.name)
HERE = Path(__file__).parent

PAYMENTS = [
    pay("100.00", "INV-2026-00123", payment_id=1),
    pay("98.00", "RE 2026/123", iban=IBAN_C1, payment_id=2),
    pay("350.00", iban=IBAN_C1, payment_id=3),
    pay("80.00", name="MUELLER BAU", payment_id=4),
    pay("75.00", name="Nordlict Logistik", payment_id=5),
    pay("12.34", "Auftrag 4711 Kundennr 10045", iban=IBAN_UNKNOWN, payment_id=6),
    pay("100.00", "INV-1", payment_id=7),  # a closed item
    pay("-50.00", "INV-2026-00124", iban=IBAN_C1, payment_id=8),  # a debit: never matched
    pay("40.00", "INV-2026-00124", iban=IBAN_C2, payment_id=9),
    pay("100.00", "INV-2026-00123", currency="USD", payment_id=10),
    pay("0.01", "", payment_id=11),
]


def fixture_view() -> CandidateView:
    customers = [*default_customers(), customer("C4", "Sub of Acme", parent="C1")]
    items = [item("INV-2026-00123", "100.00"), item("INV-2026-00124", "250.00"),
             item("CN-2026-0007", "-30.00"), item("INV-80", "80.00", "C2"),
             item("INV-75", "75.00", "C3"), item("INV-S", "12.00", "C4"),
             item("INV-D", "500.00", "C1", discount="0.02", discount_until=TODAY),
             item("INV-X", "100.00", "C1", status=ItemStatus.DISPUTED)]
    closed = [item("INV-1", "100.00", open_amount="0.00", status=ItemStatus.CLOSED)]
    learned = [LearnedLink("name", "ACME HDL", "C1"), LearnedLink("iban", IBAN_UNKNOWN, "C3")]
    return view(customers, items, learned, closed)


@pytest.fixture(params=ENTRY_POINTS, ids=lambda e: e.name)
def matcher(request: pytest.FixtureRequest) -> Matcher:
    instance = request.param.load()(SETTINGS)
    assert isinstance(instance, Matcher)
    assert instance.name == request.param.name
    return instance


def test_builtins_are_registered() -> None:
    assert {"reference", "combination", "fuzzy_name"} <= {e.name for e in ENTRY_POINTS}


@pytest.mark.parametrize("payment", PAYMENTS, ids=lambda p: f"payment{p.id}")
def test_proposals_are_valid_and_deterministic(matcher: Matcher, payment: Payment) -> None:
    v = fixture_view()
    before = pickle.dumps(v)
    first = list(matcher.propose(payment, v))
    second = list(matcher.propose(payment, v))
    assert pickle.dumps(v) == before, "the matcher changed the view"
    assert first == second, "the matcher is not deterministic"
    for proposal in first:
        assert isinstance(proposal, Proposal)
        assert validate(proposal, payment, v, matcher.name) is None
        assert all(isinstance(e, Evidence) for e in proposal.evidence)
        assert proposal.explanation
        assert proposal.currency == payment.currency
    if payment.amount <= 0 or payment.currency != "EUR":
        assert first == []


def test_every_matcher_is_documented_and_tested(matcher: Matcher) -> None:
    assert (type(matcher).__doc__ or "").strip(), f"{matcher.name} has no docstring"
    assert (HERE / f"test_{matcher.name}.py").is_file(), f"{matcher.name} has no test module"
