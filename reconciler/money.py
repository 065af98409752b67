"""Exact money: every amount in the server is a `Decimal` built here.

Floats are refused outright: 0.1 + 0.2 != 0.3 in binary floating point, and a reconciliation
that is off by a cent is a reconciliation that does not balance.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from reconciler.errors import InputError

# ISO 4217 minor units for the currencies that do not use two decimals. Everything else: 2.
_MINOR_UNITS: dict[str, int] = {
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
    "PYG": 0, "RWF": 0, "UGX": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
}

ZERO = Decimal("0")

# A plain decimal, as banks and ERPs write amounts: no exponent ('1e999999' would overflow
# every sum after it), no thousands separators, at most 18 digits before the separator
# (the largest amount ISO 20022 allows) and 12 after (exchange rates carry 10).
_PLAIN_AMOUNT = re.compile(r"[+-]?\d{1,18}(?:[.,]\d{0,12})?|[+-]?[.,]\d{1,12}")


def minor_units(currency: str | None) -> int:
    """Number of decimals of `currency` (ISO 4217); 2 when unknown."""
    return _MINOR_UNITS.get((currency or "").upper(), 2)


def money(value: Decimal | int | str) -> Decimal:
    """Build an exact amount. Accepts Decimal, int or a decimal string ('1234.50', '-3').

    A comma as decimal separator ('12,30', as MT940 writes it) is accepted; thousands
    separators are not, because '1,234' is ambiguous between banking conventions.
    """
    if isinstance(value, (bool, float)):
        raise TypeError(f"money refuses {type(value).__name__} {value!r}: use Decimal or str")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        text = value.strip()
        if not _PLAIN_AMOUNT.fullmatch(text):
            raise InputError(f"not an amount: {value[:40]!r}")
        text = text.replace(",", ".")
        if text.endswith("."):
            text += "0"  # MT940 writes '75,' for 75.00
        try:
            result = Decimal(text)
        except InvalidOperation:
            raise InputError(f"not an amount: {value[:40]!r}") from None
    else:
        raise TypeError(f"money refuses {type(value).__name__} {value!r}")
    if not result.is_finite():
        raise InputError(f"not a finite amount: {value!r}")
    return result


# The minor unit of each currency seen, as the exponent `quantize` rounds to: every
# explanation formats a handful of amounts, so the exponent is built once per currency.
_UNIT_OF: dict[str | None, Decimal] = {}


def quantize(amount: Decimal, currency: str | None) -> Decimal:
    """Round `amount` to the currency's minor unit (banker's rounding, as ISO 20022 expects)."""
    exponent = _UNIT_OF.get(currency)
    if exponent is None:
        exponent = _UNIT_OF[currency] = Decimal(1).scaleb(-minor_units(currency))
    return amount.quantize(exponent, rounding=ROUND_HALF_EVEN)


def format_amount(amount: Decimal, currency: str | None = None) -> str:
    """Plain decimal text with the currency's decimals, no exponent: '1234.50'."""
    if not currency:
        return f"{amount:f}"
    # Rounded to at most three decimals, `str` never chooses the exponent form (it does only
    # for a positive exponent or below 1E-6) and writes what the `f` format would, faster.
    return str(quantize(amount, currency))
