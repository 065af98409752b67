"""Check digits of structured creditor references (ISO 11649 RF, Swiss QRR/ISR)."""

from __future__ import annotations

import pytest

from parsers.camt.reference import (
    check_reference,
    is_valid_rf,
    is_valid_swiss,
    swiss_check_digit,
)


@pytest.mark.parametrize("reference", ["RF18539007547034", "RF18 5390 0754 7034",
                                       "rf18539007547034", "RF712348231"])
def test_valid_rf(reference: str) -> None:
    assert is_valid_rf(reference)


@pytest.mark.parametrize("reference", ["RF19539007547034", "RF18539007547035", "RF18",
                                       "RF1853900754703412345678901", "XX18539007547034"])
def test_invalid_rf(reference: str) -> None:
    assert not is_valid_rf(reference)


def test_swiss_recursive_mod10() -> None:
    # The QR-bill specification's sample reference.
    assert swiss_check_digit("21000000000313947143000901") == 7
    assert is_valid_swiss("21 00000 00003 13947 14300 09017")
    assert not is_valid_swiss("210000000003139471430009018")
    assert not is_valid_swiss("12345")


def test_check_reference_by_kind() -> None:
    assert check_reference("RF18 5390 0754 7034", "SCOR") == ("RF18539007547034", None)
    ref, problem = check_reference("RF19539007547034", "SCOR")
    assert ref is None and problem is not None and "ISO 11649" in problem
    assert check_reference("210000000003139471430009017", "QRR")[0] is not None
    ref, problem = check_reference("302388292000011111111111111", "ISR Reference")
    assert ref is None and problem is not None and "ISR" in problem
    # A bank's own scheme (Belgian structured communication here) passes unchecked.
    assert check_reference("+++090/9337/55493+++", "SCOR") == ("+++090/9337/55493+++", None)
