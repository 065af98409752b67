"""Field readers for the master-data CSV files: text in, typed value out, or `FieldError`.

Each reader is strict on purpose: the ERP export is machine-written, so anything unexpected
(a float-looking amount, a US date, a lower-case currency with a typo) is more likely a broken
export than a convention to guess at.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from reconciler.domain import DocumentType, PaymentTerms
from reconciler.errors import InputError
from reconciler.iban import iban_problem, normalize_iban
from reconciler.money import ZERO, minor_units, money


class FieldError(ValueError):
    """One field of one row cannot be read; the importer adds file, line and column."""


AMOUNT_PATTERN = re.compile(r"-?[0-9]+(?:\.([0-9]+))?")
_RATE = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_CURRENCY = re.compile(r"[A-Z]{3}")
_COUNTRY = re.compile(r"[A-Z]{2}")
_TERMS = re.compile(r"(?:([0-9]+(?:\.[0-9]+)?)\s*%?\s*/\s*([0-9]+)\s*)?NET\s*([0-9]+)",
                    re.IGNORECASE)
# Up to this length an amount that matches `AMOUNT_PATTERN` is within every limit `money`
# checks (18 digits before the point, 12 after), so it is converted directly.
SHORT_AMOUNT = 18
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def read_amount(text: str, currency: str | None) -> Decimal:
    """A plain decimal ('1234.50', '-80') with at most the currency's minor-unit decimals.

    Exponents, thousands separators and decimal commas are refused: an ERP that writes them
    has been misconfigured, and guessing '1,234' could be off by a factor of a thousand.
    """
    match = AMOUNT_PATTERN.fullmatch(text)
    if match is None:
        raise FieldError("not an amount (write it as 1234.50, with a point and no separators)")
    if len(text) <= SHORT_AMOUNT:
        value = Decimal(text)  # the pattern above admits only plain decimals this short
    else:
        try:
            value = money(text)  # its limits on digits apply to the long ones
        except InputError as exc:
            raise FieldError(exc.message) from None
    decimals = len(match.group(1) or "")
    if decimals and decimals > minor_units(currency):
        raise FieldError(f"has {decimals} decimals; {currency or 'the currency'} has "
                         f"{minor_units(currency)}")
    return value


def read_rate(text: str) -> Decimal:
    """A discount rate as a fraction: '0.02' for 2 %; must be below 1."""
    if not _RATE.fullmatch(text):
        raise FieldError("not a rate (a fraction such as 0.02)")
    value = money(text)
    if value >= 1:
        raise FieldError("a discount rate is a fraction below 1 (0.02 for 2 %)")
    return value


def read_date(text: str) -> dt.date:
    """An ISO date, YYYY-MM-DD exactly."""
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        raise FieldError("not an ISO date (YYYY-MM-DD)")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise FieldError("not a valid date") from None


def read_currency(text: str) -> str:
    value = text.upper()
    if not _CURRENCY.fullmatch(value):
        raise FieldError("not an ISO 4217 currency code (three letters, e.g. EUR)")
    return value


def read_country(text: str) -> str:
    value = text.upper()
    if not _COUNTRY.fullmatch(value):
        raise FieldError("not an ISO 3166 country code (two letters, e.g. DE)")
    return value


def read_document_type(text: str) -> DocumentType:
    try:
        return DocumentType(text.lower())
    except ValueError:
        raise FieldError("document_type must be invoice or credit_note") from None


def read_ibans(text: str) -> tuple[str, ...]:
    """';'-separated IBANs, each normalised and checked; duplicates collapse."""
    found: list[str] = []
    for part in text.split(";"):
        if not part.strip():
            continue
        iban = normalize_iban(part)
        problem = iban_problem(iban)
        if problem:
            raise FieldError(f"IBAN {part.strip()!r}: {problem}")
        if iban not in found:
            found.append(iban)
    return tuple(sorted(found))


def read_email(text: str) -> str:
    if not _EMAIL.fullmatch(text):
        raise FieldError("not an e-mail address")
    return text


def parse_payment_terms(text: str) -> PaymentTerms:
    """'NET30' or '2/10NET30' (2 % discount within 10 days, net in 30); case and spaces free."""
    match = _TERMS.fullmatch(text.strip())
    if match is None:
        raise FieldError("payment terms must read like NET30 or 2/10NET30")
    rate_text, discount_days, net_days = match.groups()
    net = int(net_days)
    if rate_text is None:
        return PaymentTerms(net_days=net)
    rate = money(rate_text) / 100
    days = int(discount_days)
    if rate <= ZERO or rate >= 1:
        raise FieldError("the discount percentage must be between 0 and 100")
    if days > net:
        raise FieldError("the discount period cannot be longer than the net period")
    return PaymentTerms(net_days=net, discount_rate=rate, discount_days=days)
