"""IBAN helpers: normalise (upper case, no spaces) and validate (ISO 13616 mod-97 check).

An IBAN on a customer master record is how a payment without a reference still finds its
payer, so a mistyped one must be refused at import rather than silently never match.
"""

from __future__ import annotations

import re

# Length of the IBAN per country (SWIFT IBAN registry). A country not listed is checked by
# the generic rules only (15 to 34 characters and the mod-97 check).
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
    "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18,
    "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24,
    "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
    "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}

_SHAPE = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")
_SPACES = re.compile(r"[\s\-]+")


def normalize_iban(text: str) -> str:
    """'de89 3704 0044 0532 0130 00' -> 'DE89370400440532013000' (no validation)."""
    value = _SPACES.sub("", text).upper()
    if value.startswith("IBAN"):
        value = value[4:]
    return value


def iban_problem(iban: str) -> str | None:
    """Why `iban` (already normalised) is not a valid IBAN, or None when it is."""
    if not _SHAPE.fullmatch(iban):
        return "not an IBAN (two letters, two check digits, 11 to 30 letters or digits)"
    expected = IBAN_LENGTHS.get(iban[:2])
    if expected is not None and len(iban) != expected:
        return f"a {iban[:2]} IBAN has {expected} characters, this one {len(iban)}"
    if _mod97(iban) != 1:
        return "check digits do not match (mod-97)"
    return None


def is_valid_iban(text: str) -> bool:
    return iban_problem(normalize_iban(text)) is None


# Letters count as two digits: A = 10 ... Z = 35.
_LETTER_DIGITS = str.maketrans({chr(code): str(code - 55) for code in range(65, 91)})


def _mod97(iban: str) -> int:
    """ISO 13616 check: the country and check digits moved to the end, letters as numbers
    (the shape is checked before: only A-Z and 0-9 reach here)."""
    return int((iban[4:] + iban[:4]).translate(_LETTER_DIGITS)) % 97
