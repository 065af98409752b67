"""Money text: `format_amount` writes the currency's decimals, never an exponent."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from reconciler.money import format_amount, quantize

CURRENCIES = ("EUR", "CHF", "JPY", "KWD", "USD")
amounts = st.decimals(min_value=Decimal("-1E12"), max_value=Decimal("1E12"), places=6,
                      allow_nan=False, allow_infinity=False)


@given(amount=amounts, currency=st.sampled_from(CURRENCIES))
def test_the_text_is_the_rounded_amount_in_plain_notation(amount: Decimal,
                                                          currency: str) -> None:
    assert format_amount(amount, currency) == f"{quantize(amount, currency):f}"


@given(amount=amounts)
def test_without_a_currency_the_amount_is_written_as_it_is(amount: Decimal) -> None:
    assert format_amount(amount) == f"{amount:f}"


def test_examples_across_minor_units() -> None:
    assert format_amount(Decimal("1234.5"), "EUR") == "1234.50"
    assert format_amount(Decimal("1E+3"), "EUR") == "1000.00"
    assert format_amount(Decimal("1234.5"), "JPY") == "1234"  # half to even, no decimals
    assert format_amount(Decimal("0.0001"), "KWD") == "0.000"
    assert format_amount(Decimal("-0.004"), "EUR") == "-0.00"
    assert format_amount(Decimal("7E-7"), "USD") == "0.00"  # str alone would write 7E-7
