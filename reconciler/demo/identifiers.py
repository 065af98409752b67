"""Bank identifiers for the demo: IBANs with valid check digits, BICs, RF creditor references.

Every IBAN made here passes the ISO 13616 mod-97 check and has its country's length; where a
country also has a national check digit inside the BBAN (BE, ES, FR, IT), that is computed too,
so that a validator that knows the national rule accepts the account as well.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass

_LETTERS = string.ascii_uppercase
_ALNUM = string.digits + string.ascii_uppercase


@dataclass(frozen=True, slots=True)
class Bank:
    """A bank a customer may hold an account with: national bank code, branch, BIC."""

    country: str
    code: str
    bic: str
    name: str
    branch: str = ""


# Real bank codes, so that the accounts look like the ones a treasury team sees every day.
BANKS: dict[str, tuple[Bank, ...]] = {
    "DE": (Bank("DE", "37040044", "COBADEFFXXX", "Commerzbank"),
           Bank("DE", "50070010", "DEUTDEFFXXX", "Deutsche Bank"),
           Bank("DE", "70020270", "HYVEDEMMXXX", "UniCredit Bank - HypoVereinsbank"),
           Bank("DE", "10010010", "PBNKDEFFXXX", "Postbank"),
           Bank("DE", "60050101", "SOLADEST600", "Landesbank Baden-Wuerttemberg"),
           Bank("DE", "20050550", "HASPDEHHXXX", "Hamburger Sparkasse")),
    "AT": (Bank("AT", "20111", "GIBAATWWXXX", "Erste Bank"),
           Bank("AT", "12000", "BKAUATWWXXX", "UniCredit Bank Austria"),
           Bank("AT", "32000", "RLNWATWWXXX", "Raiffeisenlandesbank NOe-Wien")),
    "CH": (Bank("CH", "00230", "UBSWCHZH80A", "UBS Switzerland"),
           Bank("CH", "00700", "ZKBKCHZZ80A", "Zuercher Kantonalbank"),
           Bank("CH", "09000", "POFICHBEXXX", "PostFinance")),
    "NL": (Bank("NL", "ABNA", "ABNANL2AXXX", "ABN AMRO"),
           Bank("NL", "INGB", "INGBNL2AXXX", "ING Bank"),
           Bank("NL", "RABO", "RABONL2UXXX", "Rabobank"),
           Bank("NL", "TRIO", "TRIONL2UXXX", "Triodos Bank")),
    "BE": (Bank("BE", "001", "GEBABEBBXXX", "BNP Paribas Fortis"),
           Bank("BE", "310", "BBRUBEBBXXX", "ING Belgium"),
           Bank("BE", "735", "KREDBEBBXXX", "KBC Bank")),
    "FR": (Bank("FR", "30004", "BNPAFRPPXXX", "BNP Paribas", "00823"),
           Bank("FR", "30003", "SOGEFRPPXXX", "Societe Generale", "03620"),
           Bank("FR", "20041", "PSSTFRPPPAR", "La Banque Postale", "01005")),
    "IT": (Bank("IT", "03069", "BCITITMMXXX", "Intesa Sanpaolo", "01600"),
           Bank("IT", "02008", "UNCRITMMXXX", "UniCredit", "01664"),
           Bank("IT", "05034", "BAPPIT21XXX", "Banco BPM", "11701")),
    "ES": (Bank("ES", "2100", "CAIXESBBXXX", "CaixaBank", "0418"),
           Bank("ES", "0049", "BSCHESMMXXX", "Banco Santander", "1500"),
           Bank("ES", "0182", "BBVAESMMXXX", "BBVA", "6021")),
    "GB": (Bank("GB", "NWBK", "NWBKGB2LXXX", "NatWest", "601613"),
           Bank("GB", "BARC", "BARCGB22XXX", "Barclays", "200000"),
           Bank("GB", "HBUK", "HBUKGB4BXXX", "HSBC UK", "400515"),
           Bank("GB", "LOYD", "LOYDGB2LXXX", "Lloyds Bank", "309634")),
}

IBAN_LENGTHS: dict[str, int] = {
    "DE": 22, "AT": 20, "CH": 21, "NL": 18, "BE": 16, "FR": 27, "IT": 27, "ES": 24, "GB": 22,
}


def _digits(text: str, rng: random.Random, count: int) -> str:
    return text + "".join(rng.choice(string.digits) for _ in range(count))


_AS_DIGITS = str.maketrans({c: str(int(c, 36)) for c in string.ascii_uppercase})


def mod97(text: str) -> int:
    """ISO 7064 mod 97-10 over an alphanumeric string (A=10 ... Z=35), as IBAN and RF use."""
    return int(text.upper().translate(_AS_DIGITS)) % 97


def iban_from_bban(country: str, bban: str) -> str:
    check = 98 - mod97(bban + country + "00")
    return f"{country}{check:02d}{bban}"


def is_valid_iban(iban: str) -> bool:
    """Length for the country and the mod-97 check (ISO 13616)."""
    text = iban.replace(" ", "").upper()
    if len(text) < 5 or not text.isalnum():
        return False
    expected = IBAN_LENGTHS.get(text[:2])
    if expected is not None and len(text) != expected:
        return False
    return mod97(text[4:] + text[:4]) == 1


def _fr_rib_key(bank: str, branch: str, account: str) -> str:
    # French RIB key: 97 - ((89 * bank + 15 * branch + 3 * account) mod 97), digits only here.
    return f"{97 - ((89 * int(bank) + 15 * int(branch) + 3 * int(account)) % 97):02d}"


def _es_check_digit(digits: str) -> str:
    weights = (1, 2, 4, 8, 5, 10, 9, 7, 3, 6)
    value = 11 - sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
    return "0" if value == 11 else "1" if value == 10 else str(value)


_IT_ODD = (1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25,
           24, 23)


def _it_cin(body: str) -> str:
    # Italian CIN: odd positions (1-based) weighted by a table, even ones by their index.
    total = 0
    for position, char in enumerate(body, start=1):
        index = int(char) if char.isdigit() else ord(char) - ord("A")
        total += _IT_ODD[index] if position % 2 else index
    return _LETTERS[total % 26]


def make_bban(bank: Bank, rng: random.Random) -> str:
    """A random account at `bank`, with the national check digits where the country has them."""
    country = bank.country
    if country == "DE":
        return _digits(bank.code, rng, 10)
    if country == "AT":
        return _digits(bank.code, rng, 11)
    if country == "CH":
        return _digits(bank.code, rng, 12)
    if country == "NL":
        return _digits(bank.code, rng, 10)
    if country == "BE":
        first = _digits(bank.code, rng, 7)
        national = int(first) % 97 or 97
        return f"{first}{national:02d}"
    if country == "FR":
        account = _digits("", rng, 11)
        return bank.code + bank.branch + account + _fr_rib_key(bank.code, bank.branch, account)
    if country == "IT":
        body = _digits(bank.code + bank.branch, rng, 12)
        return _it_cin(body) + body
    if country == "ES":
        account = _digits("", rng, 10)
        check = _es_check_digit("00" + bank.code + bank.branch) + _es_check_digit(account)
        return bank.code + bank.branch + check + account
    if country == "GB":
        return _digits(bank.code + bank.branch, rng, 8)
    raise ValueError(f"no IBAN layout for country {country!r}")


def make_account(country: str, rng: random.Random) -> tuple[str, str]:
    """A fresh (IBAN, BIC) pair at one of the country's banks."""
    bank = rng.choice(BANKS[country])
    return iban_from_bban(country, make_bban(bank, rng)), bank.bic


def rf_reference(body: str) -> str:
    """ISO 11649 creditor reference 'RFcc' + body (1 to 21 alphanumerics), electronic form."""
    body = body.upper()
    if not 1 <= len(body) <= 21 or not body.isalnum():
        raise ValueError(f"RF reference body must be 1-21 alphanumerics: {body!r}")
    return f"RF{98 - mod97(body + 'RF00'):02d}{body}"


def is_valid_rf(reference: str) -> bool:
    text = reference.replace(" ", "").upper()
    if not text.startswith("RF") or not 5 <= len(text) <= 25 or not text.isalnum():
        return False
    return text[2:4].isdigit() and mod97(text[4:] + text[:4]) == 1


def print_form(reference: str) -> str:
    """Groups of four, as IBANs and RF references are printed on paper: 'RF18 5390 0754 7034'."""
    return " ".join(reference[i:i + 4] for i in range(0, len(reference), 4))


def random_alnum(rng: random.Random, count: int) -> str:
    return "".join(rng.choice(_ALNUM) for _ in range(count))
