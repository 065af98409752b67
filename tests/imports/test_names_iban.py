"""Pure helpers: company-name normalisation, IBAN checks, field readers."""

from __future__ import annotations

from decimal import Decimal

import pytest

from reconciler.domain import PaymentTerms
from reconciler.iban import iban_problem, is_valid_iban, normalize_iban
from reconciler.masterdata.fields import FieldError, parse_payment_terms, read_amount
from reconciler.names import normalize_name


@pytest.mark.parametrize(("name", "expected"), [
    ("Müller GmbH & Co. KG", "mueller"),
    ("MUELLER GMBH U. CO KG", "mueller"),
    ("Acme B.V.", "acme"),
    ("ACME NV", "acme"),
    ("Société Générale S.A.", "societe generale"),
    ("Café Crème SARL", "cafe creme"),
    ("Widgets Ltd.", "widgets"),
    ("Widgets LLC", "widgets"),
    ("Widgets, Inc.", "widgets"),
    ("Fabbrica Rossi S.p.A.", "fabbrica rossi"),
    ("Fabbrica Rossi SRL", "fabbrica rossi"),
    ("Ørsted A/S", "orsted"),
    ("  Two   Spaces  AG ", "two spaces"),
    ("AG", "ag"),  # a name that is only a legal form keeps it
    ("AB Volvo", "ab volvo"),  # ambiguous short forms go only at the end
    (None, ""),
])
def test_normalize_name(name: str | None, expected: str) -> None:
    assert normalize_name(name) == expected


def test_normalize_name_makes_spellings_equal() -> None:
    spellings = ["Müller GmbH", "MUELLER GMBH", "mueller gmbh.", "Müller  G.m.b.H."]
    assert len({normalize_name(s) for s in spellings}) == 1


@pytest.mark.parametrize("iban", ["DE89370400440532013000", "de89 3704 0044 0532 0130 00",
                                  "GB82WEST12345698765432", "NL91ABNA0417164300",
                                  "BE68539007547034", "IBAN FR14 2004 1010 0505 0001 3M02 606"])
def test_valid_ibans(iban: str) -> None:
    assert is_valid_iban(iban)


@pytest.mark.parametrize(("iban", "reason"), [
    ("DE89370400440532013001", "mod-97"),
    ("DE8937040044053201300", "22 characters"),
    ("12345", "not an IBAN"),
])
def test_invalid_ibans(iban: str, reason: str) -> None:
    problem = iban_problem(normalize_iban(iban))
    assert problem is not None and reason in problem


def test_payment_terms() -> None:
    assert parse_payment_terms("NET30") == PaymentTerms(net_days=30)
    terms = parse_payment_terms("2/10NET30")
    assert terms == PaymentTerms(net_days=30, discount_rate=Decimal("0.02"), discount_days=10)
    assert terms.code == "2/10NET30"
    assert parse_payment_terms("net 45").code == "NET45"
    for bad in ("30 days", "2/40NET30", "NET", "0/10NET30"):
        with pytest.raises(FieldError):
            parse_payment_terms(bad)


def test_amounts_are_exact_and_strict() -> None:
    assert read_amount("1234.50", "EUR") == Decimal("1234.50")
    assert read_amount("-80", "EUR") == Decimal("-80")
    assert read_amount("1.234", "KWD") == Decimal("1.234")
    for bad, currency in (("1,234.50", "EUR"), ("1e3", "EUR"), ("12.345", "EUR"),
                          ("12.5", "JPY"), ("", "EUR"), ("abc", "EUR")):
        with pytest.raises(FieldError):
            read_amount(bad, currency)
