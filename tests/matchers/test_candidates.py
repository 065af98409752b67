"""The candidate view: indexes over items and customers, read-only."""

from __future__ import annotations

import pickle
from decimal import Decimal

import pytest

from matchers.candidates import CandidateView, LearnedLink
from reconciler.domain import ItemKey, ItemStatus
from tests.matchers.builders import IBAN_C1, customer, item, view


def sample() -> CandidateView:
    customers = [customer("P", "Parent Holding AG", IBAN_C1), customer("S1", "Sub Eins GmbH",
                 parent="P"), customer("S2", "Sub Zwei GmbH", parent="P"),
                 customer("X", "Müller GmbH")]
    items = [item("INV-2026-00123", "100.00", "S1"), item("INV-9", "100.00", "P"),
             item("INV-D", "50.00", "X", status=ItemStatus.DISPUTED)]
    closed = [item("INV-OLD", "10.00", "X", open_amount="0", status=ItemStatus.CLOSED)]
    learned = [LearnedLink("iban", "DE02 1203 0000 0000 2020 51", "X"),
               LearnedLink("name", "MLLR", "X")]
    return view(customers, items, learned, closed)


def test_items_by_every_key() -> None:
    v = sample()
    assert [i.document_number for i in v.items_by_document("INV202600123")] == ["INV-2026-00123"]
    assert v.items_by_digits("202600123") == v.items_by_digits("2026123")
    assert v.items_by_document("INVOLD")[0].document_number == "INV-OLD"
    assert {i.document_number for i in v.items_with_amount(Decimal("100"), "EUR")} == \
        {"INV-2026-00123", "INV-9"}
    assert v.items_with_amount(Decimal("100"), "EUR", ["P"])[0].document_number == "INV-9"


def test_open_closed_and_disputed() -> None:
    v = sample()
    assert v.is_open(ItemKey("MAIN", "INV-9"))
    assert not v.is_open(ItemKey("MAIN", "INV-OLD"))
    assert not v.is_open(ItemKey("MAIN", "INV-D"))  # disputed: out of matching
    assert v.known_item(ItemKey("MAIN", "INV-D")) is not None
    assert v.item(ItemKey("MAIN", "INV-D")) is None
    assert v.open_items_of("X") == ()


def test_customers_by_iban_name_alias_and_group() -> None:
    v = sample()
    assert v.customers_by_iban("de89 3704 0044 0532 0130 00") == ("P",)
    assert v.customers_by_learned_iban("DE02120300000000202051") == ("X",)
    assert v.customers_by_name("MUELLER") == ("X",)
    assert v.customers_by_name("Muller GmbH") == ("X",)
    assert v.customers_by_alias("mllr") == ("X",)
    assert v.group_of("S1") == ("S1", "P", "S2")
    assert v.group_of("P") == ("P", "S1", "S2")
    assert v.in_same_group("S2", "S1") and not v.in_same_group("S1", "X")


def test_view_is_built_not_constructed() -> None:
    with pytest.raises(TypeError):
        CandidateView()


def test_unknown_learned_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="learned link kind"):
        view([customer("A", "A")], [], [LearnedLink("phone", "1", "A")])  # type: ignore[arg-type]


def test_names_are_sorted_for_prefix_search() -> None:
    v = sample()
    assert list(v.name_choices) == sorted(v.name_choices)
    found = {v.name_choices[i] for i in v.names_starting_with("sub ")}
    assert found == {"sub eins", "sub zwei"}


def test_same_group_is_membership_of_the_group() -> None:
    v = sample()
    for first in ("P", "S1", "S2", "X", "unknown"):
        for second in ("P", "S1", "S2", "X", "unknown"):
            assert v.in_same_group(first, second) == (second in v.group_of(first))


def test_names_are_kept_with_their_words_sorted() -> None:
    v = sample()
    assert [sorted(n.split()) for n in v.name_choices] == \
        [n.split() for n in v.name_sorted_words]


def test_items_with_amount_in_ledger_order_open_only() -> None:
    items = [item("A-1", "50.00", "C2"), item("A-2", "50.00", "C1"),
             item("A-3", "50.00", "C1", currency="USD"), item("A-4", "50.0", "C2"),
             item("A-5", "50.00", "C1", status=ItemStatus.DISPUTED), item("A-6", "60.00", "C1")]
    v = view([customer("C1", "Eins"), customer("C2", "Zwei")], items)
    everyone = [i.document_number for i in v.items_with_amount(Decimal("50"), "EUR")]
    assert everyone == ["A-1", "A-2", "A-4"]
    named = v.items_with_amount(Decimal("50.00"), "EUR", ["C2", "C1", "C2"])
    assert [i.document_number for i in named] == ["A-1", "A-2", "A-4"]
    assert v.items_with_amount(Decimal("50"), "EUR", ["unknown"]) == ()


def test_amount_index_finds_every_open_item_of_an_amount_and_stays_out_of_pickles() -> None:
    items = [item(f"B-{n}", f"{n % 7 + 1}.50", f"C{n % 3}") for n in range(200)]
    items.append(item("B-X", "3.5000", "C1"))
    items.append(item("B-Y", "3.50", "C1", status=ItemStatus.CLOSED))
    v = view([customer(f"C{n}", f"Kunde {n}") for n in range(3)], items)
    before = pickle.dumps(v)
    found = v.items_with_amount(Decimal("3.5"), "EUR")
    expected = [i.document_number for i in items
                if i.open_amount == Decimal("3.5") and i.status is ItemStatus.OPEN]
    assert [i.document_number for i in found] == expected and "B-X" in expected
    assert v.items_with_amount(Decimal("3.50001"), "EUR") == ()
    assert v.items_with_amount(Decimal("99"), "EUR") == ()
    assert pickle.dumps(v) == before  # the index is a cache, not part of the view
    assert pickle.loads(before).items_with_amount(Decimal("3.5"), "EUR") == found
