"""The straight reader of open-item rows agrees with the careful one on every row it takes."""

from __future__ import annotations

import itertools

import pytest

from reconciler.masterdata.item_rows import COLUMNS, PlainItemReader, read_item

PLAIN = ["MAIN", "INV-1", "invoice", "C1", "EUR", "100.00", "100.00", "2026-01-01",
         "2026-01-31", "RF18539007547034", "0.02", "2026-01-11"]
# Per column: values the straight reader must take, and values it must leave alone.
TAKEN = {
    "entity": ["", " MAIN "], "document_type": ["Invoice", " invoice"],
    "currency": ["eur"], "amount": ["100", "250.5", "100.00"],
    "open_amount": ["0", "40.00", "0.00"], "discount_rate": ["", "0", "0.10"],
    "discount_due_date": ["2026-01-11"], "payment_reference": [""],
}
LEFT = {
    "entity": ["E" * 41], "document_number": ["", "D" * 65], "customer_id": ["", "C" * 65],
    "document_type": ["bill"], "currency": ["EURO", "12A"],
    "amount": ["-100.00", "1,000.00", "1e3", "100.001", "1234567890123456789.5", "x"],
    "open_amount": ["120.00", "-1.00", ""], "issue_date": ["2026-02-30", "01.01.2026"],
    "due_date": ["2025-12-31", "2026-1-31"], "payment_reference": ["R" * 65],
    "discount_rate": ["1.5", "2%"], "discount_due_date": ["2026-13-01"],
}


def _row(**changes: str) -> list[str]:
    return [changes.get(column, value) for column, value in zip(COLUMNS, PLAIN, strict=True)]


def _both(values: list[str]) -> tuple[dict[str, object] | None, dict[str, object] | None,
                                     list[tuple[str, str, str]]]:
    columns = {name: index for index, name in enumerate(COLUMNS)}
    errors: list[tuple[str, str, str]] = []
    careful = read_item(tuple(columns.items()), list(values), "MAIN", errors)
    plain = PlainItemReader(columns, len(COLUMNS), "MAIN").read(list(values))
    return plain, careful, errors


@pytest.mark.parametrize(("column", "value"), [(c, v) for c, vs in TAKEN.items() for v in vs])
def test_plain_rows_read_the_same(column: str, value: str) -> None:
    plain, careful, errors = _both(_row(**{column: value}))
    assert not errors
    assert plain is not None
    assert plain == careful


@pytest.mark.parametrize(("column", "value"), [(c, v) for c, vs in LEFT.items() for v in vs])
def test_rows_out_of_the_ordinary_go_to_the_careful_reader(column: str, value: str) -> None:
    plain, careful, errors = _both(_row(**{column: value}))
    assert plain is None if errors else plain in (None, careful)


def test_credit_notes_currencies_and_discounts() -> None:
    for values in (_row(document_type="credit_note", amount="-50.00", open_amount="-20.00"),
                   _row(currency="JPY", amount="100", open_amount="100"),
                   _row(discount_rate="", discount_due_date="")):
        plain, careful, errors = _both(values)
        assert plain is not None and plain == careful and not errors
    for values in (_row(document_type="credit_note"),  # a positive credit note
                   _row(discount_due_date="")):  # a rate needs its date
        plain, careful, errors = _both(values)
        assert plain is None and careful is None and errors


def test_a_file_without_the_optional_columns() -> None:
    required = [c for c in COLUMNS if c not in ("entity", "payment_reference", "discount_rate",
                                                "discount_due_date")]
    columns = {name: index for index, name in enumerate(required)}
    values = [PLAIN[COLUMNS.index(c)] for c in required]
    errors: list[tuple[str, str, str]] = []
    careful = read_item(tuple(columns.items()), list(values), "NORTH", errors)
    plain = PlainItemReader(columns, len(required), "NORTH").read(list(values))
    assert plain is not None and plain == careful and plain["entity"] == "NORTH"


def test_pairs_of_changes_never_disagree() -> None:
    changes = [(c, v) for c, vs in {**TAKEN, **LEFT}.items() for v in vs]
    for (first, one), (second, other) in itertools.combinations(changes, 2):
        if first == second:
            continue
        plain, careful, errors = _both(_row(**{first: one, second: other}))
        assert plain is None if errors else plain in (None, careful), (first, one, second)
