"""Conflict resolution across bank lines (pure: no database)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from reconciler.conflicts import resolve
from reconciler.domain import Allocation, ItemKey, Proposal

D = Decimal


def key(document: str) -> ItemKey:
    return ItemKey("MAIN", document)


def proposal(payment: int, confidence: float, *allocations: tuple[str, str]) -> Proposal:
    return Proposal(payment, "test", "C1",
                    tuple(Allocation(key(d), D(a)) for d, a in allocations), (), confidence)


def test_lines_without_shared_items_are_untouched() -> None:
    a, b = proposal(1, 0.99, ("INV-1", "10")), proposal(2, 0.5, ("INV-2", "20"))
    result = resolve({1: [a], 2: [b]}, {key("INV-1"): D("10"), key("INV-2"): D("20")})
    assert result[1].proposals == (a,) and result[2].proposals == (b,)
    assert not result[1].contested and not result[2].contested


def test_two_payments_cannot_take_the_same_last_euro() -> None:
    strong = proposal(1, 0.99, ("INV-1", "100"))
    weak_first = proposal(2, 0.80, ("INV-1", "100"))
    weak_second = proposal(2, 0.60, ("INV-2", "100"))
    result = resolve({1: [strong], 2: [weak_first, weak_second]},
                     {key("INV-1"): D("100"), key("INV-2"): D("100")})
    assert result[1].proposals[0] is strong and not result[1].contested
    # The loser falls back to its next proposal and keeps the lost one, explained, behind it.
    assert result[2].proposals == (weak_second, weak_first)
    assert result[2].contested
    assert "taken by payment 1" in result[2].notes[1]


def test_equally_sure_rivals_leave_both_to_a_person() -> None:
    first, second = proposal(1, 0.97, ("INV-1", "100")), proposal(2, 0.97, ("INV-1", "100"))
    result = resolve({1: [first], 2: [second]}, {key("INV-1"): D("100")})
    assert result[1].contested and result[2].contested
    assert result[1].proposals == (first,)  # the earlier line keeps the item as its suggestion
    # The later one is probably paid twice: keep its cash on account, then what it lost.
    on_account, lost = result[2].proposals
    assert on_account.allocations == () and on_account.customer_id == "C1"
    assert on_account.adjustments[0].amount == D("100") and on_account.confidence <= 0.5
    assert lost is second and "taken by payment 1" in result[2].notes[1]


def test_partial_payments_that_fit_together_both_stand() -> None:
    first, second = proposal(1, 0.9, ("INV-1", "40")), proposal(2, 0.9, ("INV-1", "60"))
    result = resolve({1: [first], 2: [second]}, {key("INV-1"): D("100")})
    assert result[1].proposals == (first,) and result[2].proposals == (second,)
    assert not result[1].contested and not result[2].contested


def test_a_chain_of_competitors_is_settled_as_one_component() -> None:
    # 1 and 2 compete for INV-1, 2 and 3 for INV-2: payment 2 loses INV-1, so it takes INV-2
    # and payment 3 is left with nothing that fits.
    p1 = proposal(1, 0.99, ("INV-1", "50"))
    p2a, p2b = proposal(2, 0.9, ("INV-1", "50")), proposal(2, 0.7, ("INV-2", "50"))
    p3 = proposal(3, 0.6, ("INV-2", "50"))
    result = resolve({1: [p1], 2: [p2a, p2b], 3: [p3]},
                     {key("INV-1"): D("50"), key("INV-2"): D("50")})
    assert result[2].proposals[0] is p2b
    assert result[3].contested and result[3].proposals[1:] == (p3,)
    assert "taken by payment 2" in result[3].notes[1]


def test_credit_notes_count_towards_zero_from_below() -> None:
    first = proposal(1, 0.95, ("INV-1", "100"), ("CN-1", "-30"))
    second = proposal(2, 0.90, ("INV-2", "50"), ("CN-1", "-30"))
    result = resolve({1: [first], 2: [second]},
                     {key("INV-1"): D("100"), key("INV-2"): D("50"), key("CN-1"): D("-30")})
    assert result[1].proposals == (first,)
    assert result[2].contested and "CN-1" in result[2].notes[1]


def test_the_first_of_two_identical_transfers_wins_the_second_waits() -> None:
    first, again = proposal(1, 0.99, ("INV-1", "100")), proposal(2, 0.99, ("INV-1", "100"))
    paid = {1: dt.date(2026, 11, 2), 2: dt.date(2026, 11, 5)}
    result = resolve({2: [again], 1: [first]}, {key("INV-1"): D("100")}, paid)
    # The invoice was settled by the first transfer; the second is the double payment.
    assert result[1].proposals[0] is first and not result[1].contested
    assert result[2].contested and result[2].proposals[0].allocations == ()


def test_identical_transfers_on_the_same_day_stay_with_a_person() -> None:
    first, again = proposal(1, 0.99, ("INV-1", "100")), proposal(2, 0.99, ("INV-1", "100"))
    paid = {1: dt.date(2026, 11, 2), 2: dt.date(2026, 11, 2)}
    result = resolve({1: [first], 2: [again]}, {key("INV-1"): D("100")}, paid)
    assert result[1].contested and result[2].contested


def test_a_later_rival_with_other_amounts_still_contests() -> None:
    first = proposal(1, 0.99, ("INV-1", "100"), ("INV-2", "50"))
    other = proposal(2, 0.99, ("INV-1", "100"))
    paid = {1: dt.date(2026, 11, 2), 2: dt.date(2026, 11, 5)}
    result = resolve({1: [first], 2: [other]},
                     {key("INV-1"): D("100"), key("INV-2"): D("50")}, paid)
    assert result[1].contested
