"""The fuzzy name matcher: spellings banks produce, and names that are no evidence."""

from __future__ import annotations

import pytest

from matchers.candidates import LearnedLink
from matchers.fuzzy_name import FuzzyNameMatcher, distinct_winner, score_names
from matchers.text import name_variants
from tests.matchers.builders import (
    IBAN_C1,
    IBAN_UNKNOWN,
    SETTINGS,
    customer,
    documents,
    item,
    pay,
    view,
)

matcher = FuzzyNameMatcher(SETTINGS)
CUSTOMERS = [
    customer("C1", "Acme Handels GmbH", IBAN_C1),
    customer("C2", "Müller Baustoffe und Bedachungen Süddeutschland GmbH & Co. KG"),
    customer("C3", "Nordlicht Logistik AG"),
    customer("C4", "Schmidt Elektrotechnik GmbH"),
    customer("C5", "Weber Gartenbau GmbH"),
]
ITEMS = [item("INV-1", "100.00", "C1"), item("INV-2", "250.00", "C2"), item("INV-3", "75.00", "C3"),
         item("INV-4", "42.00", "C4"), item("INV-5", "42.00", "C5")]


@pytest.mark.parametrize("name, expected", [
    ("NORDLICHT LOGISTIK", "C3"),  # no legal form, upper case
    ("Logistik Nordlicht AG", "C3"),  # word order
    ("Nordlict Logistik AG", "C3"),  # a typo
    ("MUELLER BAUSTOFFE UND BEDACHUNGE", "C2"),  # umlaut as ue, cut at 32 characters
    ("MULLER BAUSTOFFE UND BEDACHUNGEN SUEDD", "C2"),  # umlaut as u, cut mid-word
])
def test_bank_spellings_identify_the_customer(name: str, expected: str) -> None:
    winner = distinct_winner(score_names(name, view(CUSTOMERS, ITEMS)))
    assert winner is not None and winner[0] == expected


@pytest.mark.parametrize("name", ["Schmidt", "Handels GmbH", "Logistik", "Max Mustermann", "GmbH"])
def test_weak_or_common_names_are_no_evidence(name: str) -> None:
    assert distinct_winner(score_names(name, view(CUSTOMERS, ITEMS))) is None


def test_tie_gives_no_match() -> None:
    customers = [customer("A", "Becker Transporte GmbH"), customer("B", "Becker Transporte AG")]
    assert distinct_winner(score_names("BECKER TRANSPORTE", view(customers, []))) is None


def test_proposes_the_customers_item_with_the_amount() -> None:
    proposals = matcher.propose(pay("75.00", name="NORDLICT LOGISTIK", iban=IBAN_UNKNOWN),
                                view(CUSTOMERS, ITEMS))
    assert documents(proposals[0]) == {"INV-3"}
    assert proposals[0].customer_id == "C3"
    assert proposals[0].confidence < SETTINGS.auto_threshold  # a name alone never auto-applies
    assert "NORDLICT LOGISTIK" in proposals[0].explanation


def test_uses_the_combination_search_for_several_items() -> None:
    items = [*ITEMS, item("INV-6", "25.00", "C3")]
    proposals = matcher.propose(pay("100.00", name="Nordlicht Logistk"), view(CUSTOMERS, items))
    assert documents(proposals[0]) == {"INV-3", "INV-6"}


def test_learned_alias_is_searched() -> None:
    learned = [LearnedLink("name", "NL LOG HAMBURG ZENTRALE", "C3")]
    v = view(CUSTOMERS, ITEMS, learned)
    proposals = matcher.propose(pay("75.00", name="NL LOG HAMBURG ZENTRAL"), v)
    assert documents(proposals[0]) == {"INV-3"}
    assert any(e.kind == "alias" for e in proposals[0].evidence)


def test_steps_aside_when_the_iban_is_known() -> None:
    assert matcher.propose(pay("100.00", name="Acme Handel", iban=IBAN_C1),
                           view(CUSTOMERS, ITEMS)) == []


def test_name_without_a_fitting_amount_gives_nothing() -> None:
    assert matcher.propose(pay("12.34", name="Nordlict Logistik"), view(CUSTOMERS, ITEMS)) == []


def test_scores_equal_token_sort_ratio_of_the_names() -> None:
    # The view keeps the names with their words sorted; scoring those with the plain ratio
    # must give what rapidfuzz's token_sort_ratio gives on the names themselves.
    from rapidfuzz import fuzz

    v = view(CUSTOMERS, ITEMS)
    for query in ("MUELLER BAUSTOFFE UND BEDACHUNG", "LOGISTIK NORDLICHT", "ELEKTROTECHNIK"):
        scores = score_names(query, v)
        assert scores
        for customer_id, (score, index) in scores.items():
            assert v.name_owners[index] == customer_id
            if score < 95:  # not the prefix score of a name cut short
                assert score == max(fuzz.token_sort_ratio(q, v.name_choices[index])
                                    for q in name_variants(query))


def test_a_repeated_payer_name_is_searched_once_per_view(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    import matchers.fuzzy_name as fuzzy_name

    searched: list[str] = []

    def counting(name: str, v: object) -> dict[str, tuple[float, int]]:
        searched.append(name)
        return score_names(name, v)  # type: ignore[arg-type]

    monkeypatch.setattr(fuzzy_name, "score_names", counting)
    own = FuzzyNameMatcher(SETTINGS)
    first = view(CUSTOMERS, ITEMS)
    payment = pay("75.00", name="NORDLICT LOGISTIK", iban=IBAN_UNKNOWN)
    again = own.propose(payment, first)
    assert own.propose(payment, first) == again
    assert searched == ["NORDLICT LOGISTIK"]
    # Another view (the next run, other customers) is searched afresh.
    renamed = [customer("C9", "Nordlicht Logistik AG"), *CUSTOMERS[:2]]
    later = own.propose(payment, view(renamed, [item("INV-9", "75.00", "C9")]))
    assert searched == ["NORDLICT LOGISTIK"] * 2
    assert later[0].customer_id == "C9"
