"""Field parsers for the MT940/MT942 tags, with named pre-processors for bank quirks.

The field layouts follow the `mt-940` library (`mt940.tags`): balances (`:60F:`, `:62F:`,
`:64:`, ...) are read with its `BalanceBase` pattern, `:34F:` with `FloorLimitIndicator`,
`:13D:` with `DateTimeIndication`, `:90D:`/`:90C:` with `SumEntries`. The statement line
`:61:` uses our own pattern: the library's one misreads several real dialects (see
`parse_statement_line`). Before a value is matched, the field's pre-processors run in order;
each one removes a single bank quirk and is unit-tested on its own.

Every parser raises `InputError` for a value it cannot read; the reader turns that into a
diagnostic for the line.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from mt940 import tags as mt940_tags

from reconciler.errors import InputError
from reconciler.money import minor_units, money

FieldPreProcessor = Callable[[str], str]

# ---------------------------------------------------------------------------------------------
# Amounts and dates
# ---------------------------------------------------------------------------------------------


def parse_amount(text: str, currency: str | None) -> Decimal:
    """An unsigned MT940 amount ('1234,56', '75,', '000000004433,52') as an exact Decimal.

    The amount is brought to the currency's minor unit ('75,' is 75.00 EUR) when that is
    exact; an amount with more significant decimals than the currency has is kept as sent,
    never rounded.
    """
    if not text or not text[0].isdigit() or text.count(",") > 1:
        raise InputError(f"not an MT940 amount: {text!r}")
    amount = money(text)
    places = minor_units(currency)
    comma = text.find(",")
    if comma >= 0 and places and len(text) - comma - 1 == places:
        return amount  # already in minor units, the usual case
    exact = amount.quantize(_QUANTUM[places] if places < 4 else Decimal(1).scaleb(-places))
    return exact if exact == amount else amount


_QUANTUM = tuple(Decimal(1).scaleb(-places) for places in range(4))


def clamp_impossible_day(year: int, month: int, day: int) -> tuple[int, int, int]:
    """Some German banks (Sparkasse interest postings) value-date entries on 30 February.

    Interest conventions count every month as 30 days, and the booking system writes that day
    out literally. The entry belongs to the month's last day, which is what the `mt-940`
    library's `date_fixup_pre_processor` does too.
    """
    if month == 2 and 29 <= day <= 31:
        last = 29 if (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)) else 28
        return year, month, min(day, last)
    return year, month, day


def full_year(two_digits: int) -> int:
    """SWIFT dates carry two-digit years; MT940 came into use in the 1980s."""
    return 2000 + two_digits if two_digits < 80 else 1900 + two_digits


@functools.lru_cache(maxsize=4096)  # a statement holds few distinct dates
def parse_date(yymmdd: str) -> dt.date:
    """A SWIFT YYMMDD date; an impossible 30 February becomes the month's last day."""
    if len(yymmdd) != 6 or not yymmdd.isdigit():
        raise InputError(f"not a YYMMDD date: {yymmdd!r}")
    year, month, day = clamp_impossible_day(
        full_year(int(yymmdd[:2])), int(yymmdd[2:4]), int(yymmdd[4:6])
    )
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise InputError(f"not a valid date: {yymmdd!r}") from None


@functools.lru_cache(maxsize=4096)
def booking_date_near(value_date: dt.date, mmdd: str) -> dt.date:
    """The `:61:` entry date has no year: take the one that puts it nearest the value date.

    A payment value-dated 31 December and booked 2 January crosses the year boundary; the
    `mt-940` library applies the same rule (a gap of 330 days or more means another year).
    """
    month, day = int(mmdd[:2]), int(mmdd[2:])
    candidates = []
    for year in (value_date.year - 1, value_date.year, value_date.year + 1):
        y, m, d = clamp_impossible_day(year, month, day)
        try:
            candidates.append(dt.date(y, m, d))
        except ValueError:
            raise InputError(f"not a valid entry date: {mmdd!r}") from None
    return min(candidates, key=lambda candidate: abs((candidate - value_date).days))


def comma_decimal_separator(value: str) -> str:
    """Old Rabobank (and some hand-made) files write amounts with '.' as decimal separator.

    The SWIFT amount type `15d` only knows ','; the `mt-940` library stops the amount at the
    '.', silently drops the cents and reads them as the start of the reference. Applied to
    the amount position of balances and statement lines only.
    """
    if "." not in value:
        return value
    match = _AMOUNT_WITH_DOT.match(value)
    if not match:
        return value
    start, end = match.span("amount")
    return value[:start] + value[start:end].replace(".", ",") + value[end:]


# Statement line and balance prefixes up to the amount: date(s), D/C mark, funds code.
_AMOUNT_WITH_DOT = re.compile(
    r"(?:\d{6}(?:\d{4}|\s{4})?R?[DC][A-Z]?\n?|[DC]\d{6}[A-Z]{3})(?P<amount>\d+\.\d*)"
)

# ---------------------------------------------------------------------------------------------
# Balances :60F: :60M: :62F: :62M: :64: :65:
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Balance:
    amount: Decimal  # signed: a debit balance (overdraft) is negative
    currency: str
    date: dt.date


_BALANCE = mt940_tags.Tags.FINAL_OPENING_BALANCE.value.re
def strip_amount_zero_padding(value: str) -> str:
    """Rabobank and some Turkish banks pad balance amounts with zeros to a fixed width,
    beyond the 15 characters SWIFT allows (`C180410TRY0000000000000000,00`). The `mt-940`
    library's balance pattern stops after 16 characters; the padding carries no value.
    """
    match = _PADDED_BALANCE.match(value)
    if not match:
        return value
    return value[:match.start("zeros")] + value[match.end("zeros"):]


_PADDED_BALANCE = re.compile(r"\s*[DC]\d{6}[A-Za-z]{3}(?P<zeros>0+)(?=\d)")

BALANCE_PRE_PROCESSORS: tuple[FieldPreProcessor, ...] = (
    comma_decimal_separator,
    strip_amount_zero_padding,
)


def parse_balance(value: str) -> Balance:
    """`C200102EUR13290,34`: mark, YYMMDD, currency, amount (the library's BalanceBase)."""
    for pre_processor in BALANCE_PRE_PROCESSORS:
        value = pre_processor(value)
    value = value.strip()
    match = _BALANCE.match(value)
    if not match or match.end() != len(value) or not match.group("currency").isalpha():
        raise InputError(f"not a balance (mark, YYMMDD, currency, amount): {value!r}")
    currency = match.group("currency").upper()
    amount = parse_amount(match.group("amount"), currency)
    date = parse_date(match.group("year") + match.group("month") + match.group("day"))
    return Balance(-amount if match.group("status").upper() == "D" else amount, currency, date)


# ---------------------------------------------------------------------------------------------
# Account :25: and statement number :28C:
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Account:
    identification: str  # IBAN or account number as the bank wrote it
    currency: str | None  # when the bank appended it to the account


_ACCOUNT_CURRENCY = re.compile(r"(?P<account>.*[0-9])(?: ?|/)(?P<currency>[A-Z]{3})")


def split_account_currency(value: str) -> Account:
    """`:25:` with the currency glued on (ING `NL77INGB0574908765EUR`, Rabobank
    `1017.490.554EUR`), after a space (bunq, Rabobank `NL34RABO0142623393 EUR`) or after a
    slash (Raiffeisen `.../HUF`). The account keeps its own spelling: dotted old Dutch
    numbers and German `BLZ/Konto` stay as the bank wrote them.
    """
    value = value.strip()
    match = _ACCOUNT_CURRENCY.fullmatch(value)
    if match:
        return Account(match.group("account").strip(), match.group("currency"))
    return Account(value, None)


def parse_statement_number(value: str) -> str | None:
    """`:28C:` comes in every shape (`2/1`, `00000/001`, `0`, ` /1`, even empty); kept as sent."""
    number = " ".join(value.split())
    return number or None


# ---------------------------------------------------------------------------------------------
# Statement line :61:
# ---------------------------------------------------------------------------------------------


def no_space_before_type_code(value: str) -> str:
    """Some exports put a space between the amount and the `N` of the transaction type.

    `1,56 NTRF` is `1,56NTRF`: SWIFT has no separator there, and the space would otherwise be
    read as the start of the type code.
    """
    if " " not in value:
        return value
    return _SPACE_BEFORE_TYPE.sub(r"\g<head>\g<type>", value, count=1)


_SPACE_BEFORE_TYPE = re.compile(r"^(?P<head>\d{6}(?:\d{4}|\s{4})?R?[DC][A-Z]?\n?\d[\d,]*) +"
                                r"(?P<type>[NSF][A-Z0-9]{3})")


def iban_out_of_customer_reference(value: str) -> str:
    """ASN Bank and SNS put the counterparty IBAN (18 characters for a Dutch one) where the
    16-character customer reference goes, with the counterparty name on the next line.

    The `mt-940` library fails on those lines. The IBAN is moved to the start of the
    supplementary details, so the reference is empty and the IBAN stays readable there.
    """
    match = _IBAN_AS_REFERENCE.match(value)
    if not match:
        return value
    head, iban, rest = match.group("head"), match.group("iban"), match.group("rest")
    return f"{head}\n{iban} {rest.lstrip(chr(10))}".rstrip()


_IBAN_AS_REFERENCE = re.compile(
    r"(?P<head>\d{6}(?:\d{4}|\s{4})?R?[DC][A-Z]?\d[\d,]*(?!NONREF)[A-Z][A-Z0-9]{3})"
    r"(?P<iban>[A-Z]{2}\d{2}[A-Z0-9]{13,30})(?![A-Z0-9/])(?P<rest>[\s\S]*)"
)

STATEMENT_LINE_PRE_PROCESSORS: tuple[FieldPreProcessor, ...] = (
    comma_decimal_separator,
    no_space_before_type_code,
    iban_out_of_customer_reference,
)

# 6!n[4!n]2a[1!a]15d1!a3!c16x[//16x][34x], read tolerantly:
# - the entry date may be four spaces (some banks blank it);
# - the mark is C, D, RC (reversal of a credit) or RD (reversal of a debit), optionally
#   followed by the funds code letter (the third letter of the currency: CR, DK, DN, CM ...);
# - the type code is one letter and three letters/digits/spaces (N + 3 in SEPA files, S + MT
#   number, and a trailing space as in Triodos `NIT `); when it is missing altogether the line
#   goes straight on with the reference, so `NONREF` must not be taken for a type code;
# - the customer reference runs to `//` or the end of the line; SWIFT caps it at 16
#   characters and old Rabobank files put the counterparty name after those 16;
# - supplementary details may run over several lines.
_STATEMENT_LINE = re.compile(
    r"""(?P<value_date>\d{6})
    (?P<entry_date>\d{4}|\ {4})?
    (?P<mark>R?[DC])
    (?P<funds_code>[A-Z])?
    \n?
    (?P<amount>\d[\d,]{0,16})
    (?P<type_code>(?!NONREF)[A-Z][A-Z0-9\ ]{3})?
    (?P<reference>[^\n]*?)
    (?://(?P<bank_reference>[^\n]*))?
    (?:\n(?P<supplementary>[\s\S]*))?
    """,
    re.VERBOSE,
)


class StatementLine(NamedTuple):
    """One `:61:` read (a named tuple: built once per entry, so cheap to make)."""

    amount: Decimal  # signed, credit positive
    value_date: dt.date
    booking_date: dt.date | None
    mark: str  # C, D, RC or RD
    funds_code: str | None
    type_code: str | None  # e.g. NTRF, NMSC, S103
    customer_reference: str | None
    bank_reference: str | None
    supplementary_details: str | None

    @property
    def is_reversal(self) -> bool:
        return self.mark.startswith("R")


# `NONREF` is SWIFT's word for "no reference". ING, Rabobank and the German savings banks
# write a marker instead of a reference to say where the real one is: `EREF` (end-to-end id
# in :86:), `PREF` (payment information id), `MARF` (mandate), `KREF+` (customer reference
# in the :86: KREF+ keyword).
_NO_REFERENCE = frozenset({"", "NONREF", "EREF", "PREF", "MARF", "KREF+", "NOTPROVIDED"})


def _reference(text: str | None) -> str | None:
    if text is None:
        return None
    text = text.strip()
    return None if text.upper() in _NO_REFERENCE else text


def parse_statement_line(value: str, currency: str | None) -> StatementLine:
    """Read a `:61:` value into its parts; the amount gets its sign from the mark.

    C (credit) is positive and D (debit) negative. A reversal flips the entry it undoes: RC,
    the reversal of a credit, takes money out (negative); RD puts it back (positive).
    """
    for pre_processor in STATEMENT_LINE_PRE_PROCESSORS:
        value = pre_processor(value)
    value = value.strip()
    match = _STATEMENT_LINE.fullmatch(value)
    if not match:
        raise InputError(f"not a statement line: {value.splitlines()[0] if value else ''!r}")
    (value_text, entry, mark, funds_code, amount_text, type_code, reference, bank_reference,
     supplementary_text) = match.groups()
    value_date = parse_date(value_text)
    booking_date = booking_date_near(value_date, entry) if entry and entry[0] != " " else None
    amount = parse_amount(amount_text, currency)
    if mark == "D" or mark == "RC":
        amount = -amount
    supplementary = supplementary_text
    if len(reference) > 16 and bank_reference is None:
        # Beyond the 16 characters of the reference: old Rabobank's counterparty name.
        supplementary = f"{reference[16:]}\n{supplementary or ''}"
        reference = reference[:16]
    if supplementary:
        supplementary = " ".join(
            line.strip() for line in supplementary.split("\n") if line and not line.isspace())
    return StatementLine(
        amount,
        value_date,
        booking_date,
        mark,
        funds_code,
        type_code.strip() or None if type_code else None,
        _reference(reference),
        _reference(bank_reference),
        supplementary or None,
    )


# ---------------------------------------------------------------------------------------------
# MT942: :34F: floor limit, :13D: creation time, :90D:/:90C: entry totals
# ---------------------------------------------------------------------------------------------

_FLOOR_LIMIT = mt940_tags.Tags.FLOOR_LIMIT_INDICATOR.value.re
_DATE_TIME = mt940_tags.Tags.DATE_TIME_INDICATION.value.re
_SUM_ENTRIES = mt940_tags.Tags.SUM_ENTRIES.value.re


def parse_floor_limit_currency(value: str) -> str:
    """`:34F:EURD0,00`: the MT942 floor limit; only its currency is of use to us."""
    match = _FLOOR_LIMIT.match(value.strip())
    if not match:
        raise InputError(f"not a floor limit (currency, mark, amount): {value!r}")
    return match.group("currency").upper()


def parse_date_time(value: str) -> dt.datetime:
    """`:13D:1701191815+0100`: YYMMDDhhmm and an optional UTC offset."""
    match = _DATE_TIME.match(value.strip())
    if not match:
        raise InputError(f"not a date-time indication: {value!r}")
    date = parse_date(match.group("year") + match.group("month") + match.group("day"))
    hour, minute = int(match.group("hour")), int(match.group("minute"))
    if hour > 23 or minute > 59:
        raise InputError(f"not a valid time: {value!r}")
    tz: dt.tzinfo | None = None
    groups = match.groupdict()
    offset = groups.get("offset")
    if offset:
        minutes = int(offset[:2]) * 60 + int(offset[2:])
        if minutes >= 24 * 60:
            raise InputError(f"not a valid UTC offset: {value!r}")
        # mt-940 5.x reads the sign; 4.x only knew '+' offsets.
        sign = -1 if groups.get("offset_sign") == "-" else 1
        tz = dt.timezone(dt.timedelta(minutes=sign * minutes))
    return dt.datetime(date.year, date.month, date.day, hour, minute, tzinfo=tz)


@dataclass(frozen=True, slots=True)
class EntryTotal:
    count: int
    amount: Decimal  # unsigned, as declared


def parse_entry_total(value: str) -> EntryTotal:
    """`:90D:1EUR2,30` / `:90C:3PLN0,03`: number and sum of the debit or credit entries."""
    value = value.strip()
    match = _SUM_ENTRIES.match(value)
    if not match or match.end() != len(value) or not match.group("currency").isalpha():
        raise InputError(f"not an entry total (count, currency, amount): {value!r}")
    currency = match.group("currency").upper()
    return EntryTotal(int(match.group("number") or 0), parse_amount(match.group("amount"),
                                                                      currency))
