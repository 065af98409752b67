"""The amount-combination matcher and its exact, bounded subset-sum search."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from matchers import scoring
from matchers.candidates import LearnedLink
from matchers.combination import CombinationMatcher, find_combinations
from reconciler.domain import AdjustmentKind, Decision, OpenItem, Payment, Proposal
from rules.decision import decide
from tests.matchers.builders import (
    IBAN_C1,
    IBAN_UNKNOWN,
    SETTINGS,
    TODAY,
    customer,
    default_customers,
    documents,
    item,
    pay,
    view,
)

AUTO = SETTINGS.auto_threshold
matcher = CombinationMatcher(SETTINGS)


def c1_items() -> list[OpenItem]:
    return [item("INV-1", "120.00", due=TODAY - dt.timedelta(40)),
            item("INV-2", "340.50", due=TODAY - dt.timedelta(30)),
            item("INV-3", "99.99", due=TODAY - dt.timedelta(20)),
            item("CN-4", "-20.50"),
            item("INV-5", "1200.00", "C2")]


def propose(payment: Payment, items: list[OpenItem] | None = None,
            learned: Sequence[LearnedLink] = ()) -> Sequence[Proposal]:
    return matcher.propose(payment, view(default_customers(), items or c1_items(), learned))


def test_single_item_equal_to_the_amount() -> None:
    proposals = propose(pay("99.99", iban=IBAN_C1))
    assert documents(proposals[0]) == {"INV-3"}
    assert proposals[0].confidence >= AUTO


def test_invoices_net_of_credit_note() -> None:
    proposal = propose(pay("439.99", iban=IBAN_C1))[0]  # 120.00 + 340.50 - 20.50 = 440.00 - .01
    assert proposal.allocated + proposal.adjusted == pay("439.99").amount
    assert documents(proposal) == {"INV-1", "INV-2", "CN-4"}
    assert proposal.adjustments[0].kind is AdjustmentKind.BANK_CHARGE


def test_exact_beats_tolerance() -> None:
    items = [item("A", "100.00"), item("B", "101.00")]
    proposals = propose(pay("100.00", iban=IBAN_C1), items)
    assert documents(proposals[0]) == {"A"}
    assert proposals[0].adjustments == ()


def test_equal_fits_are_ambiguous_and_never_auto() -> None:
    items = [item("A", "50.00"), item("B", "50.00"), item("C", "70.00")]
    proposals = propose(pay("50.00", iban=IBAN_C1), items)
    assert {frozenset(documents(p)) for p in proposals} == {frozenset({"A"}), frozenset({"B"})}
    assert all(p.confidence < AUTO for p in proposals)
    assert all(any(e.kind == "ambiguity" for e in p.evidence) for p in proposals)


def test_discount_per_item() -> None:
    items = [item("A", "500.00", discount="0.02", discount_until=TODAY),
             item("B", "300.00", discount="0.02", discount_until=TODAY - dt.timedelta(1))]
    proposal = propose(pay("790.00", iban=IBAN_C1), items)[0]  # 490.00 + 300.00
    by_doc = {a.item.document_number: a for a in proposal.allocations}
    assert str(by_doc["A"].discount) == "10.00" and by_doc["B"].discount == 0
    assert proposal.confidence >= AUTO


def test_payer_found_by_exact_name_is_a_suggestion() -> None:
    proposal = propose(pay("99.99", name="ACME HANDELS GMBH", iban=IBAN_UNKNOWN))[0]
    assert documents(proposal) == {"INV-3"}
    assert SETTINGS.suggest_threshold <= proposal.confidence < AUTO


def test_payer_found_by_learned_iban() -> None:
    learned = [LearnedLink("iban", IBAN_UNKNOWN, "C1")]
    proposal = propose(pay("99.99", iban=IBAN_UNKNOWN), learned=learned)[0]
    assert documents(proposal) == {"INV-3"}
    assert any(e.kind == "iban" and "learned" in e.detail for e in proposal.evidence)


def test_unknown_payer_gives_nothing() -> None:
    assert propose(pay("99.99", name="Someone Else", iban=IBAN_UNKNOWN)) == []


def test_group_items_when_own_items_do_not_fit() -> None:
    customers = [customer("P", "Parent AG", IBAN_C1), customer("S", "Sub GmbH", parent="P")]
    items = [item("P-1", "10.00", "P"), item("S-1", "75.00", "S"), item("S-2", "25.00", "S")]
    proposals = matcher.propose(pay("100.00", iban=IBAN_C1), view(customers, items))
    assert documents(proposals[0]) == {"S-1", "S-2"}
    assert any(e.kind == "group" for e in proposals[0].evidence)


def test_cited_item_outside_the_set_is_a_conflict() -> None:
    proposals = propose(pay("99.99", "INV-1", iban=IBAN_C1))
    assert any(e.kind == "conflict" for e in proposals[0].evidence)
    assert proposals[0].confidence < AUTO


def test_items_named_by_their_short_form_anchor_the_search() -> None:
    # "Rg. 242543, 298642" names two of the payer's invoices by their last digit group; the
    # rest of the amount is one more invoice. Searched over the whole pool, 200 + 35 + 45 + 70
    # would be a second reading; anchored on the named items, the rest has one.
    items = [item("INV-2026-0242543", "100.00"), item("INV-2026-0298642", "200.00"),
             item("INV-2026-0478623", "50.00"), item("INV-2026-0511111", "35.00"),
             item("INV-2026-0522222", "45.00"), item("INV-2026-0533333", "70.00")]
    proposals = propose(pay("350.00", "Rg. 242543, 298642", iban=IBAN_C1), items)
    assert documents(proposals[0]) == {"INV-2026-0242543", "INV-2026-0298642",
                                       "INV-2026-0478623"}
    assert not [e for e in proposals[0].evidence if e.kind == "ambiguity"]


def test_not_greedy_by_due_date() -> None:
    # Oldest first would take 60 + 30 and stop; the exact set is the two younger ones.
    items = [item("OLD", "60.00", due=TODAY - dt.timedelta(90)),
             item("MID", "45.00", due=TODAY - dt.timedelta(60)),
             item("NEW", "55.00", due=TODAY - dt.timedelta(10))]
    assert documents(propose(pay("100.00", iban=IBAN_C1), items)[0]) == {"MID", "NEW"}


# --- the search itself ----------------------------------------------------------------------


def test_search_prefers_fewer_items_on_equal_difference() -> None:
    result = find_combinations([(100, None), (60, None), (40, None)], 100, 0)
    assert result.solutions == (((0, False),),)
    assert result.count == 1
    # ... but 60 + 40 is a second exact reading: the payer may have paid those two.
    assert result.other_exact == 1 and result.ambiguous


def test_search_stops_at_the_node_budget_and_says_so() -> None:
    amounts = [(1000 + 7 * i, None) for i in range(40)]
    result = find_combinations(amounts, 12_345, 0, node_budget=1000)
    assert not result.complete


def test_large_pool_finds_small_exact_sets_completely() -> None:
    amounts = [(100_000 + 7919 * i, None) for i in range(40)]
    target = amounts[3][0] + amounts[17][0] + amounts[30][0]
    result = find_combinations(amounts, target, 1500, node_budget=1000)
    assert result.complete and result.difference == 0
    assert all(sum(amounts[i][0] for i, _ in sol) == target for sol in result.solutions)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 90_000), min_size=30, max_size=40, unique=True), st.data())
def test_large_pool_finds_a_planted_small_set(values: list[int], data: st.DataObject) -> None:
    planted = data.draw(st.sets(st.integers(0, len(values) - 1), min_size=1, max_size=4))
    target = sum(values[i] for i in planted)
    result = find_combinations([(v, None) for v in values], target, 0, half_limit=0,
                               time_ms=10_000)
    assert result.difference == 0
    assert all(sum(values[i] for i, _ in s) == target for s in result.solutions)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(-3_000, 30_000), st.booleans()), min_size=1, max_size=12),
       st.integers(1, 100_000), st.integers(0, 300))
def test_both_search_methods_agree(pairs: list[tuple[int, bool]], target: int, tol: int) -> None:
    amounts = [(v, v - abs(v) // 50 if d else None) for v, d in pairs]
    meet = find_combinations(amounts, target, tol, time_ms=10_000)
    depth = find_combinations(amounts, target, tol, time_ms=10_000, half_limit=0)
    assert (meet.difference, meet.size, meet.count) == (depth.difference, depth.size, depth.count)
    if meet.count <= 3:
        assert meet.solutions == depth.solutions


amount_lists = st.lists(st.integers(min_value=-5_000, max_value=50_000), min_size=1, max_size=14)


@settings(max_examples=150, deadline=None)
@given(amount_lists, st.integers(min_value=1, max_value=100_000), st.integers(0, 500))
def test_any_returned_set_sums_within_tolerance(values: list[int], target: int, tol: int) -> None:
    amounts = [(v, None) for v in values]
    result = find_combinations(amounts, target, tol, time_ms=10_000)
    for solution in result.solutions:
        indexes = [i for i, _ in solution]
        assert len(indexes) == len(set(indexes))
        assert target <= sum(values[i] for i in indexes) <= target + tol
        assert sum(values[i] for i in indexes) - target == result.difference


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(1, 90_000), min_size=2, max_size=16), st.data())
def test_a_planted_solution_is_found(values: list[int], data: st.DataObject) -> None:
    planted = data.draw(st.sets(st.integers(0, len(values) - 1), min_size=1, max_size=5))
    target = sum(values[i] for i in planted)
    result = find_combinations([(v, None) for v in values], target, 0, time_ms=10_000)
    assert result.complete
    assert result.difference == 0
    assert all(sum(values[i] for i, _ in s) == target for s in result.solutions)
    assert len({i for i, _ in result.solutions[0]}) <= len(planted)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 50_000), st.booleans()), min_size=1, max_size=12),
       st.integers(1, 200_000))
def test_search_is_deterministic_with_discounts(pairs: list[tuple[int, bool]],
                                                target: int) -> None:
    amounts = [(v, v - v // 50 if d else None) for v, d in pairs]
    first = find_combinations(amounts, target, 100, time_ms=10_000)
    second = find_combinations(list(amounts), target, 100, time_ms=10_000)
    assert first == second
    for solution in first.solutions:
        total = sum(amounts[i][1] or 0 if disc else amounts[i][0] for i, disc in solution)
        assert target <= total <= target + 100


def test_part_payment_words_block_a_full_settlement() -> None:
    items = [item("INV-9", "7950.00"), item("CN-9", "-1808.10")]
    proposals = propose(pay("6141.90", "Teilzahlung INV-9", iban=IBAN_C1), items)
    assert documents(proposals[0]) == {"INV-9", "CN-9"}
    assert any("part payment" in e.detail for e in proposals[0].evidence)
    assert proposals[0].confidence < AUTO


def test_mistyped_reference_of_the_ibans_only_exact_item_is_strong() -> None:
    # The cited number is another customer's invoice, one digit off the payer's own invoice
    # that the amount fits exactly and alone: the payer mistyped our number.
    items = [item("INV-2026-15430", "1358.98"), item("INV-2026-15434", "99.00", "C2")]
    proposals = propose(pay("1358.98", "INV-2026-15434", iban=IBAN_C1), items)
    assert documents(proposals[0]) == {"INV-2026-15430"}
    assert any("mistyped reference" in e.detail and e.kind == "reference"
               for e in proposals[0].evidence)
    assert proposals[0].confidence >= AUTO


def test_mistyped_reference_without_the_iban_is_a_near_miss() -> None:
    items = [item("INV-2026-15430", "1358.98"), item("INV-2026-15434", "99.00", "C2")]
    payment = pay("1358.98", "INV-2026-15434", iban=IBAN_UNKNOWN, name="Acme Handels GmbH")
    proposals = propose(payment, items)
    assert all(p.confidence < AUTO for p in proposals)


def test_near_miss_on_the_payers_own_other_item_stays_a_doubt() -> None:
    # Both numbers are the payer's: which one it meant is not clear from a typo.
    items = [item("INV-2026-15430", "1358.98"), item("INV-2026-15434", "99.00")]
    proposals = propose(pay("1358.98", "INV-2026-15434", iban=IBAN_C1), items)
    assert all(p.confidence < AUTO for p in proposals)


def test_named_item_padded_with_others_to_reach_the_tolerance_is_weak() -> None:
    items = [item("INV-1", "1960.59"), item("INV-2", "328.00")]
    proposals = propose(pay("2279.87", "INV-1", iban=IBAN_C1), items)  # 8.72 under the pair
    assert all(p.confidence < AUTO for p in proposals)


def test_inexact_fit_takes_no_unmentioned_discount() -> None:
    items = [item("INV-1", "669.57", discount="0.02", discount_until=TODAY), item("INV-2", "5.00")]
    proposal = propose(pay("654.57", iban=IBAN_C1), items)[0]  # 15.00 charges, not 13.39 + 1.61
    assert all(a.discount == 0 for a in proposal.allocations)
    assert [str(a.amount) for a in proposal.adjustments] == ["-15.00"]


def test_short_form_of_another_own_item_outside_the_set_is_a_doubt() -> None:
    # "Fact. 26118" names INV-2026-26118 by its last group; the other item fits the amount
    # inside the bank-charge tolerance, but the payer meant 26118 (paid over).
    items = [item("INV-2026-26118", "1438.00"), item("INV-2026-23634", "1515.00")]
    proposals = propose(pay("1500.00", "Fact. 26118", iban=IBAN_C1), items)
    assert all(p.confidence < AUTO for p in proposals
               if documents(p) == {"INV-2026-23634"})


def _brute_force(amounts: list[tuple[int, int | None]], target: int,
                 tol: int) -> tuple[int | None, int | None, int]:
    """(difference, size, count) of the best sets, by trying every choice per item."""
    import itertools

    best: tuple[int, int] | None = None
    count = 0
    choices = [[0, full] + ([disc] if disc is not None and disc != full else [])
               for full, disc in amounts]
    for combo in itertools.product(*[range(len(c)) for c in choices]):
        size = sum(1 for n in combo if n)
        total = sum(choices[i][n] for i, n in enumerate(combo))
        if not size or not target <= total <= target + tol:
            continue
        key = (total - target, size)
        if best is None or key < best:
            best, count = key, 1
        elif key == best:
            count += 1
    return (best[0], best[1], count) if best else (None, None, 0)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(-3_000, 30_000), st.booleans()), min_size=1, max_size=9),
       st.integers(1, 60_000), st.integers(0, 300))
def test_depth_first_with_its_table_finds_what_trying_everything_finds(
        pairs: list[tuple[int, bool]], target: int, tol: int) -> None:
    # Nine items with discounts do not fit one table of the smallest amounts: the depth-first
    # part and the table are both exercised.
    amounts = [(v, v - abs(v) // 50 if d else None) for v, d in pairs]
    depth = find_combinations(amounts, target, tol, half_limit=0)
    assert depth.complete
    assert (depth.difference, depth.size, depth.count) == _brute_force(amounts, target, tol)


def test_a_large_set_from_a_crowded_pool_is_marked() -> None:
    # Thirty-two items: sets of six hit almost any amount exactly, so such a hit is flagged
    # (and weighed like an incomplete search); a small set from the same pool is not.
    import random

    rng = random.Random(1)
    amounts: list[tuple[int, int | None]] = [(rng.randint(1000, 900_000), None)
                                             for _ in range(32)]
    target = sum(a for a, _ in rng.sample(amounts, 6))
    crowded = find_combinations(amounts, target, 0)
    assert crowded.complete and crowded.difference == 0 and crowded.size == 6
    assert crowded.crowded
    small = find_combinations(amounts, amounts[3][0] + amounts[17][0], 0)
    assert small.size == 2 and not small.crowded


def test_a_crowded_exact_set_is_never_applied_automatically() -> None:
    import random
    from decimal import Decimal

    rng = random.Random(1)
    cents = [rng.randint(1000, 900_000) for _ in range(32)]
    target = sum(rng.sample(cents, 6))
    items = [item(f"INV-{n}", str(Decimal(c) / 100)) for n, c in enumerate(cents)]
    settings_many = dataclasses.replace(SETTINGS, combination_max_items=40)
    proposals = CombinationMatcher(settings_many).propose(
        pay(str(Decimal(target) / 100), iban=IBAN_C1), view(default_customers(), items))
    assert proposals and len(proposals[0].allocations) == 6
    assert any("coincidence" in e.detail for e in proposals[0].evidence)
    assert proposals[0].confidence < AUTO


# --- exact sets of another size ------------------------------------------------------------


def test_an_exact_set_of_another_size_makes_the_fewest_items_ambiguous() -> None:
    # 100 + 200 = 300: {300, 500} and {100, 200, 500} both pay 800 exactly.
    result = find_combinations([(300, None), (100, None), (200, None), (500, None)], 800, 0)
    assert (result.difference, result.size, result.count) == (0, 2, 1)
    assert result.other_exact == 1
    assert result.ambiguous


def test_the_best_set_plus_items_that_cancel_out_is_no_second_reading() -> None:
    # An invoice and the credit note that cancels it, both open: adding them changes nothing.
    result = find_combinations([(800, None), (100, None), (-100, None)], 800, 0)
    assert (result.difference, result.size, result.count) == (0, 1, 1)
    assert result.other_exact == 0
    assert not result.ambiguous


def test_two_invoices_adding_up_to_a_third_are_never_applied_automatically() -> None:
    # The payer cites one invoice and pays it with three more, two of which add up to a third
    # open invoice: the four-item and the five-item readings both fit to the cent.
    items = [item("INV-2026-0489181", "2389.52"), item("INV-2026-0159784", "2679.88"),
             item("INV-2026-0246923", "1831.41"), item("INV-2026-0642310", "1297.10"),
             item("INV-2026-0377721", "3128.51"), item("INV-2026-0812615", "3824.66")]
    proposals = propose(pay("12022.57", "INV-2026-0489181", iban=IBAN_C1), items)
    assert proposals
    assert all(p.confidence < AUTO for p in proposals)
    # The fewest items still lead the suggestions, marked as one reading of two.
    assert documents(proposals[0]) == {"INV-2026-0489181", "INV-2026-0159784",
                                       "INV-2026-0377721", "INV-2026-0812615"}
    assert any("another number of items" in e.detail for e in proposals[0].evidence)
    assert decide(list(proposals), SETTINGS).decision is Decision.SUGGEST



def test_a_reference_shared_by_an_invoice_and_a_credit_note_is_met_by_either() -> None:
    # "Rechnung 2026-0017058" fits the invoice and the credit note of that number; the set
    # holds the invoice, so the payment's citation is met, not contradicted.
    items = [item("INV-2026-0017058", "1880.10"), item("CN-2026-0017058", "-120.00"),
             item("INV-2026-0109750", "2249.68"), item("CN-2026-0010090", "-233.50")]
    proposals = propose(pay("3896.28", "Rechnung 2026-0017058, 2026-0109750, CN-2026-0010090",
                            iban=IBAN_C1), items)
    assert documents(proposals[0]) == {"INV-2026-0017058", "INV-2026-0109750",
                                       "CN-2026-0010090"}
    assert not [e for e in proposals[0].evidence if e.kind == "conflict"]
    assert any(e.detail == "the payment names every item of this set"
               for e in proposals[0].evidence)


def test_an_item_taken_with_its_discount_plus_another_is_a_second_reading() -> None:
    # 50.00 in full, or 49.00 after its discount plus the item of 1.00: the same position
    # taken another way is not "the best set with items added".
    result = find_combinations([(100, None), (5000, 4900)], 5000, 0)
    assert (result.difference, result.size, result.other_exact) == (0, 1, 1)


def test_a_second_exact_reading_weighs_less_than_equal_fits() -> None:
    # {A} and {B, C} pay 100.00 exactly; D and E only come within the bank-charge tolerance,
    # which no longer counts once a set fits exactly. Fewer items stay the likelier reading.
    items = [item("A", "100.00"), item("B", "60.00"), item("C", "40.00"),
             item("D", "105.00"), item("E", "110.00")]
    proposals = propose(pay("100.00", iban=IBAN_C1), items)
    assert documents(proposals[0]) == {"A"}
    [doubt] = [e for e in proposals[0].evidence if e.kind == "ambiguity"]
    assert doubt.weight == scoring.OTHER_READING
    assert doubt.detail == "1 set(s) of another number of items fit the amount exactly too"
    assert proposals[0].confidence < AUTO

def _other_exact_by_brute_force(amounts: list[tuple[int, int | None]],
                                target: int) -> tuple[int, int]:
    """(exact sets of another size than the smallest and not that one with items added,
    all exact sets), by trying every choice per item; a set is its (item, choice) picks."""
    import itertools

    choices = [[0, full] + ([disc] if disc is not None and disc != full else [])
               for full, disc in amounts]
    exact = [frozenset((i, n) for i, n in enumerate(combo) if n)
             for combo in itertools.product(*[range(len(c)) for c in choices])
             if any(combo) and sum(choices[i][n] for i, n in enumerate(combo)) == target]
    if not exact:
        return 0, 0
    smallest = min(len(found) for found in exact)
    best = [found for found in exact if len(found) == smallest]
    others = [found for found in exact if len(found) != smallest]
    # With positive amounts no superset of an exact set is exact: which smallest set the
    # search keeps first does not matter.
    assert not any(found > b for found in others for b in best)
    return len(others), len(exact)


@settings(max_examples=120, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 30_000), st.booleans()), min_size=1, max_size=10),
       st.integers(1, 60_000))
def test_meet_in_the_middle_counts_every_exact_set_of_another_size(
        pairs: list[tuple[int, bool]], target: int) -> None:
    amounts = [(v, v - v // 50 if d else None) for v, d in pairs]
    result = find_combinations(amounts, target, 0, time_ms=10_000)
    others, exact = _other_exact_by_brute_force(amounts, target)
    if exact <= 64:  # every exact set noted: the count is exact
        assert result.other_exact == others
    else:
        assert result.ambiguous
