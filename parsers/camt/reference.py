"""Structured creditor references and their check digits.

A structured reference is the strongest evidence a payment carries: the payer copied it from
the invoice. A reference whose check digits fail was mistyped, so it must not be trusted as
structured; it stays readable in the remittance text and a warning says why.

- RF (ISO 11649): 'RF' + 2 check digits + up to 21 letters/digits, ISO 7064 mod 97-10.
- Swiss QRR (QR-bill) and its predecessor ISR/ESR: 27 digits (ISR also 16), the last one a
  check digit by the recursive modulo-10 scheme of Swiss payment slips.
"""

from __future__ import annotations

import re

_RF_SHAPE = re.compile(r"RF\d{2}[0-9A-Z]{1,21}")
_SWISS_SHAPE = re.compile(r"\d{16}|\d{27}")
_MOD10_TABLE = (0, 9, 4, 6, 8, 2, 7, 1, 3, 5)


def compact(reference: str) -> str:
    """References are often printed in groups of four: 'RF18 5390 0754 7034'."""
    return "".join(reference.split()).upper()


def is_valid_rf(reference: str) -> bool:
    ref = compact(reference)
    if not _RF_SHAPE.fullmatch(ref):
        return False
    rearranged = ref[4:] + ref[:4]
    digits = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(digits) % 97 == 1


def swiss_check_digit(digits: str) -> int:
    carry = 0
    for ch in digits:
        carry = _MOD10_TABLE[(carry + int(ch)) % 10]
    return (10 - carry) % 10


def is_valid_swiss(reference: str) -> bool:
    """QRR (27 digits) or ISR/ESR (27 or 16 digits) with a correct recursive mod-10 digit."""
    ref = compact(reference)
    if not _SWISS_SHAPE.fullmatch(ref):
        return False
    return swiss_check_digit(ref[:-1]) == int(ref[-1])


def reference_kind(reference: str, declared_type: str | None) -> str | None:
    """'RF', 'QRR' or 'ISR' when the reference claims a checkable scheme, else None."""
    ref = compact(reference)
    declared = (declared_type or "").upper()
    if ref.startswith("RF") and ref[2:4].isdigit():
        return "RF"
    if "QRR" in declared:
        return "QRR"
    if "ISR" in declared or "ESR" in declared:
        return "ISR"
    if ref.isdigit() and len(ref) == 27:
        return "QRR"  # unlabelled 27 digits: a Swiss payment-slip reference
    return None


def check_reference(reference: str, declared_type: str | None) -> tuple[str | None, str | None]:
    """Returns (normalised reference or None, problem or None).

    A reference of a checkable kind comes back compacted when its check digits hold, else as
    None with a message. Any other structured reference (a bank's own scheme) passes as is.
    """
    kind = reference_kind(reference, declared_type)
    if kind is None:
        return reference.strip(), None
    if kind == "RF":
        if is_valid_rf(reference):
            return compact(reference), None
        return None, f"creditor reference {reference!r} fails the ISO 11649 (RF) check"
    if is_valid_swiss(reference):
        return compact(reference), None
    return None, f"creditor reference {reference!r} fails the Swiss {kind} mod-10 check"
