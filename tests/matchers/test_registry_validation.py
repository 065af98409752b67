"""The registry's validation names what is wrong with an allocation's item."""

from __future__ import annotations

from matchers.registry import validate
from reconciler.domain import Allocation, ItemKey, Proposal
from tests.matchers.builders import default_customers, item, pay, view


def _proposal(document: str, amount: str) -> Proposal:
    payment = pay(amount)
    return Proposal(payment.id, "reference", "C1",
                    (Allocation(ItemKey("MAIN", document), payment.amount),), confidence=0.5)


def test_an_open_item_passes() -> None:
    v = view(default_customers(), [item("INV-1", "100.00")])
    assert validate(_proposal("INV-1", "100.00"), pay("100.00"), v, "reference") is None


def test_a_settled_item_is_known_but_not_open() -> None:
    v = view(default_customers(), [item("INV-1", "100.00")],
             closed=[item("INV-0", "100.00", open_amount="0")])
    problem = validate(_proposal("INV-0", "100.00"), pay("100.00"), v, "reference")
    assert problem == "MAIN/INV-0 is not open"


def test_an_item_missing_from_the_view_is_not_known() -> None:
    v = view(default_customers(), [item("INV-1", "100.00")])
    problem = validate(_proposal("NOPE", "100.00"), pay("100.00"), v, "reference")
    assert problem == "MAIN/NOPE is not a known item"
