from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.demo import DemoData
from reconciler.demo.identifiers import (
    BANKS,
    IBAN_LENGTHS,
    is_valid_iban,
    is_valid_rf,
    make_account,
    mod97,
    print_form,
    rf_reference,
)


def test_known_iban_and_rf_examples_check() -> None:
    # The ISO 13616 and ISO 11649 examples, computed by hand elsewhere.
    assert is_valid_iban("DE89370400440532013000")
    assert is_valid_iban("GB29 NWBK 6016 1331 9268 19")
    assert not is_valid_iban("DE88370400440532013000")
    assert rf_reference("539007547034") == "RF18539007547034"
    assert is_valid_rf("RF18 5390 0754 7034")
    assert not is_valid_rf("RF19539007547034")


@pytest.mark.parametrize("country", sorted(IBAN_LENGTHS))
def test_generated_ibans_have_country_length_and_check_digits(country: str) -> None:
    rng = random.Random(country)
    for _ in range(200):
        iban, bic = make_account(country, rng)
        assert len(iban) == IBAN_LENGTHS[country]
        assert iban.startswith(country)
        assert is_valid_iban(iban), iban
        assert bic in {bank.bic for bank in BANKS[country]}


def test_belgian_and_spanish_national_check_digits() -> None:
    rng = random.Random(3)
    for _ in range(50):
        be, _ = make_account("BE", rng)
        assert int(be[4:14]) % 97 in (int(be[14:16]), 0 if be[14:16] == "97" else -1)
        es, _ = make_account("ES", rng)
        assert _es_digit("00" + es[4:12]) == int(es[12])
        assert _es_digit(es[14:24]) == int(es[13])


def _es_digit(text: str) -> int:
    weights = (1, 2, 4, 8, 5, 10, 9, 7, 3, 6)
    value = 11 - sum(int(d) * w for d, w in zip(text, weights, strict=True)) % 11
    return {11: 0, 10: 1}.get(value, value)


def test_every_customer_iban_and_item_reference_is_valid(demo_data: DemoData) -> None:
    ibans = [iban for c in demo_data.customers for iban in c.ibans]
    assert len(ibans) > len(demo_data.customers) * 0.9
    assert all(is_valid_iban(i) for i in ibans)
    assert len(set(ibans)) == len(ibans)
    references = [i.payment_reference for i in demo_data.open_items if i.payment_reference]
    assert references and all(is_valid_rf(r) for r in references)
    assert len(set(references)) == len(references)
    payer_ibans = [p.counterparty_iban for p in demo_data.payments if p.counterparty_iban]
    assert all(is_valid_iban(i) for i in payer_ibans)
    structured = [p.creditor_reference for p in demo_data.payments if p.creditor_reference]
    assert structured and all(is_valid_rf(r) for r in structured)


def test_mod97_and_print_form() -> None:
    assert mod97("3214282912345698765432161182") == 1
    assert print_form("RF18539007547034") == "RF18 5390 0754 7034"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=21))
def test_any_rf_body_gets_valid_check_digits(body: str) -> None:
    reference = rf_reference(body)
    assert is_valid_rf(reference) and reference[4:] == body
    corrupted = reference[:4] + ("1" if body[0] != "1" else "2") + reference[5:]
    assert not is_valid_rf(corrupted)  # mod 97 catches every single-character change


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(sorted(IBAN_LENGTHS)), st.integers(min_value=0, max_value=10**9))
def test_any_seed_gives_valid_ibans(country: str, seed: int) -> None:
    iban, _ = make_account(country, random.Random(seed))
    assert is_valid_iban(iban) and len(iban) == IBAN_LENGTHS[country]
