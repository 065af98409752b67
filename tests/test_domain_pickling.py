"""Proposals cross from the matching workers to the parent as pickles: they must come back
equal, field for field, and the records pickle by their fields (not by per-field state)."""

from __future__ import annotations

import datetime as dt
import pickle
from dataclasses import dataclass
from decimal import Decimal

import pytest

from reconciler.domain import (
    Adjustment,
    AdjustmentKind,
    Allocation,
    Diagnostic,
    EntryStatus,
    Evidence,
    ItemKey,
    ParseResult,
    Proposal,
    Severity,
    Statement,
    Transaction,
)
from reconciler.domain.pickling import pickled_by_fields
from reconciler.forked import ForkedCall


def _proposal() -> Proposal:
    key = ItemKey("MAIN", "INV-0042")
    return Proposal(
        payment_id=7, matcher="reference", customer_id="C1",
        allocations=(Allocation(key, Decimal("98.00"), Decimal("2.00")),),
        adjustments=(Adjustment(AdjustmentKind.BANK_CHARGE, Decimal("-1.50"), "fee"),),
        confidence=0.97,
        evidence=(Evidence("reference", "reference", "document INV-0042", 0.9),),
        explanation="reference: INV-0042", currency="EUR")


@pytest.mark.parametrize("protocol", [2, pickle.HIGHEST_PROTOCOL])
def test_a_proposal_comes_back_equal(protocol: int) -> None:
    original = _proposal()
    copy = pickle.loads(pickle.dumps(original, protocol=protocol))
    assert copy == original
    assert copy.allocations[0].item == ItemKey("MAIN", "INV-0042")
    assert isinstance(copy.allocations[0].amount, Decimal)
    assert copy.adjustments[0].kind is AdjustmentKind.BANK_CHARGE


def test_records_pickle_as_a_call_with_their_field_values() -> None:
    allocation = Allocation(ItemKey("MAIN", "1"), Decimal("5"))
    assert allocation.__reduce__() == (Allocation, (ItemKey("MAIN", "1"), Decimal("5"),
                                                    Decimal("0")))


def test_the_decorator_refuses_a_record_its_fields_cannot_rebuild() -> None:
    @dataclass(frozen=True)
    class Single:
        value: int

    with pytest.raises(TypeError, match="two or more fields"):
        pickled_by_fields(Single)


def _parsed_file() -> ParseResult:
    payment = Transaction(Decimal("119.00"), "EUR", dt.date(2026, 3, 2), dt.date(2026, 3, 2),
                          bank_reference="REF-1", status=EntryStatus.PENDING,
                          extra=(("creditor_id", "DE98ZZZ09999999999"),))
    statement = Statement("DE02120300000000202051", "EUR", "S-1", "1", Decimal("0.00"),
                          Decimal("119.00"), dt.date(2026, 3, 1), dt.date(2026, 3, 2),
                          transactions=(payment, payment))
    return ParseResult(format="camt.053", statements=(statement,),
                       diagnostics=(Diagnostic(Severity.WARNING, "odd", "Ntry[1]"),))


def test_a_parsed_file_from_the_parsing_child_arrives_equal() -> None:
    """The import parses the next bank file in a forked child, which sends it pickled."""
    original = _parsed_file()
    received = ForkedCall(_parsed_file, name="parse").result()
    assert received == original
    assert received is not None
    transactions = received.statements[0].transactions
    assert transactions[0] is transactions[1]  # shared objects stay shared
    assert transactions[0].status is EntryStatus.PENDING
    assert original.statements[0].__reduce__()[0] is Statement
