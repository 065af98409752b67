"""Field parsers and their pre-processors, one bank quirk at a time."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from parsers.mt940.fields import (
    BALANCE_PRE_PROCESSORS,
    STATEMENT_LINE_PRE_PROCESSORS,
    booking_date_near,
    clamp_impossible_day,
    comma_decimal_separator,
    iban_out_of_customer_reference,
    no_space_before_type_code,
    parse_amount,
    parse_balance,
    parse_date_time,
    parse_entry_total,
    parse_floor_limit_currency,
    parse_statement_line,
    parse_statement_number,
    split_account_currency,
    strip_amount_zero_padding,
)
from reconciler.errors import InputError

# --- pre-processors ---------------------------------------------------------------------------


def test_dot_decimal_in_statement_line_becomes_comma() -> None:
    assert comma_decimal_separator("030109C000000000300.00NMSCNONREF") == \
        "030109C000000000300,00NMSCNONREF"


def test_dot_decimal_in_balance_becomes_comma() -> None:
    assert comma_decimal_separator("C030108EUR2145.00") == "C030108EUR2145,00"


def test_dot_outside_the_amount_is_untouched() -> None:
    value = "1901310131C2,NTRFNONREF//B.1"
    assert comma_decimal_separator(value) == value


def test_space_before_type_code_removed() -> None:
    assert no_space_before_type_code("1401200220C1,56 NTRFEREF//1") == "1401200220C1,56NTRFEREF//1"


def test_asn_iban_moves_out_of_the_customer_reference() -> None:
    value = "2001020102D2000,00NOVBNL29INGB0006475121\nj blom"
    assert iban_out_of_customer_reference(value) == \
        "2001020102D2000,00NOVB\nNL29INGB0006475121 j blom"


def test_sixteen_character_reference_is_not_taken_for_an_iban() -> None:
    value = "1609140914C100,N110NL66RABO01295689//B6I14"
    assert iban_out_of_customer_reference(value) == value


def test_zero_padding_beyond_fifteen_digits_removed() -> None:
    assert strip_amount_zero_padding("C180410TRY0000000000000000,00") == "C180410TRY0,00"
    assert strip_amount_zero_padding("C131231EUR000000004433,52") == "C131231EUR4433,52"


def test_pre_processor_lists_are_named_and_documented() -> None:
    for pre_processor in (*STATEMENT_LINE_PRE_PROCESSORS, *BALANCE_PRE_PROCESSORS):
        assert pre_processor.__name__ and pre_processor.__doc__


# --- amounts and dates ------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("75,", Decimal("75.00")),
    ("000000004433,52", Decimal("4433.52")),
    ("0,5", Decimal("0.50")),
    ("1234,567", Decimal("1234.567")),
])
def test_amount_forms(text: str, expected: Decimal) -> None:
    amount = parse_amount(text, "EUR")
    assert amount == expected
    assert str(amount) == str(expected)


def test_amount_in_currency_without_decimals() -> None:
    assert str(parse_amount("1500,", "JPY")) == "1500"


@pytest.mark.parametrize("text", ["", ",15x", "1,2,3", "abc"])
def test_bad_amounts_raise_input_error(text: str) -> None:
    with pytest.raises(InputError):
        parse_amount(text, "EUR")


def test_thirty_february_becomes_last_day() -> None:
    assert clamp_impossible_day(2016, 2, 30) == (2016, 2, 29)
    assert clamp_impossible_day(2017, 2, 30) == (2017, 2, 28)
    assert clamp_impossible_day(2017, 4, 30) == (2017, 4, 30)


def test_booking_date_across_year_boundary() -> None:
    assert booking_date_near(dt.date(2019, 12, 31), "0102") == dt.date(2020, 1, 2)
    assert booking_date_near(dt.date(2020, 1, 2), "1231") == dt.date(2019, 12, 31)
    assert booking_date_near(dt.date(2020, 6, 1), "0602") == dt.date(2020, 6, 2)


# --- balances, account, statement number ------------------------------------------------------


def test_credit_and_debit_balances() -> None:
    balance = parse_balance("C200102EUR13290,34")
    assert (balance.amount, balance.currency, balance.date) == \
        (Decimal("13290.34"), "EUR", dt.date(2020, 1, 2))
    assert parse_balance("D070903EUR1234718,36").amount == Decimal("-1234718.36")


def test_balance_with_dot_and_padding() -> None:
    assert parse_balance("C030108EUR000000002145.00").amount == Decimal("2145.00")


@pytest.mark.parametrize("value", ["C020315105000,00", "Dnullnull7414,3", "X200101EUR1,", ""])
def test_unreadable_balances_raise_input_error(value: str) -> None:
    with pytest.raises(InputError):
        parse_balance(value)


@pytest.mark.parametrize(("value", "account", "currency"), [
    ("NL77INGB0574908765EUR", "NL77INGB0574908765", "EUR"),  # ING: glued
    ("NL10BUNQ2290325473 EUR", "NL10BUNQ2290325473", "EUR"),  # bunq, Rabobank: a space
    ("1017.490.554EUR", "1017.490.554", "EUR"),  # old Rabobank: dotted number
    ("87052000/123456789", "87052000/123456789", None),  # German BLZ/Konto
    ("TRIODOSBANK/0666666666", "TRIODOSBANK/0666666666", None),
    ("UBRTHUHB/123456789150ABCDEF002/HUF", "UBRTHUHB/123456789150ABCDEF002", "HUF"),
    ("1014365930  ", "1014365930", None),
])
def test_account_identification(value: str, account: str, currency: str | None) -> None:
    parsed = split_account_currency(value)
    assert (parsed.identification, parsed.currency) == (account, currency)


@pytest.mark.parametrize(("value", "expected"), [
    ("2/1", "2/1"), ("00000/001", "00000/001"), (" /1", "/1"), ("", None), ("0000\n0", "0000 0"),
])
def test_statement_number_kept_as_sent(value: str, expected: str | None) -> None:
    assert parse_statement_number(value) == expected


# --- :61: -------------------------------------------------------------------------------------


def test_plain_sepa_statement_line() -> None:
    line = parse_statement_line("1902110211D108,75NTRFNONREF//B6K21PGKGO", "EUR")
    assert line.amount == Decimal("-108.75")
    assert line.value_date == dt.date(2019, 2, 11)
    assert line.booking_date == dt.date(2019, 2, 11)
    assert (line.type_code, line.customer_reference, line.bank_reference) == \
        ("NTRF", None, "B6K21PGKGO")
    assert not line.is_reversal


@pytest.mark.parametrize(("mark", "sign"), [("C", 1), ("D", -1), ("RC", -1), ("RD", 1)])
def test_reversal_marks_flip_the_sign(mark: str, sign: int) -> None:
    line = parse_statement_line(f"1412051205{mark}15,67NTRFNONREF", "EUR")
    assert line.amount == sign * Decimal("15.67")
    assert line.is_reversal == mark.startswith("R")


@pytest.mark.parametrize(("value", "funds_code", "amount"), [
    ("0709040904CR300,NTRFNONREF", "R", Decimal("300.00")),
    ("1902180218DR20,00N037NONREF", "R", Decimal("-20.00")),
    ("2011301130DN43000,00//19239810200", "N", Decimal("-43000.00")),
    ("020322CM20000,00S051", "M", Decimal("20000.00")),
    ("180417DF14790,00N031", "F", Decimal("-14790.00")),
])
def test_funds_code_after_the_mark(value: str, funds_code: str, amount: Decimal) -> None:
    line = parse_statement_line(value, "EUR")
    assert (line.funds_code, line.amount) == (funds_code, amount)


def test_dot_decimals_are_not_dropped() -> None:
    line = parse_statement_line("030110C000000043985.66NMSCNONREF          MR AND MRS DAVIDS",
                                "EUR")
    assert line.amount == Decimal("43985.66")
    assert line.type_code == "NMSC"
    assert line.customer_reference is None
    assert line.supplementary_details == "MR AND MRS DAVIDS"


def test_amount_without_decimals() -> None:
    assert parse_statement_line("0906230624D203,N369NONREF", "EUR").amount == Decimal("-203.00")


def test_type_code_with_trailing_space() -> None:
    line = parse_statement_line("121123D10,00NIT NONREF", "EUR")
    assert (line.type_code, line.customer_reference) == ("NIT", None)


def test_space_before_n() -> None:
    line = parse_statement_line("1401200220C1,56 NTRFEREF//00000000001", "EUR")
    assert (line.amount, line.type_code, line.bank_reference) == \
        (Decimal("1.56"), "NTRF", "00000000001")


def test_no_type_code_at_all() -> None:
    line = parse_statement_line("0906230624D12,50NONREF", "EUR")
    assert (line.type_code, line.customer_reference, line.amount) == \
        (None, None, Decimal("-12.50"))


def test_second_line_of_supplementary_details() -> None:
    line = parse_statement_line("1701190119CN0,01NTRFNONREF//MB170119012058\n911-TRANSAKCJA IPH",
                                "PLN")
    assert line.bank_reference == "MB170119012058"
    assert line.supplementary_details == "911-TRANSAKCJA IPH"


def test_asn_iban_reference_parses() -> None:
    line = parse_statement_line("2001020102D2000,00NOVBNL29INGB0006475121\nj blom", "EUR")
    assert line.amount == Decimal("-2000.00")
    assert (line.type_code, line.customer_reference) == ("NOVB", None)
    assert line.supplementary_details == "NL29INGB0006475121 j blom"


def test_customer_reference_and_entry_date() -> None:
    line = parse_statement_line("0203170320CM5000,00S05168790452", "DEM")
    assert line.customer_reference == "68790452"
    assert line.booking_date == dt.date(2002, 3, 20)


def test_reference_markers_are_not_references() -> None:
    assert parse_statement_line("1609140914C1,NTRFEREF//X", "EUR").customer_reference is None
    assert parse_statement_line("1609140914C1,NTRFKREF+//X", "EUR").customer_reference is None


def test_february_30_value_date() -> None:
    line = parse_statement_line("1602300301DR6,00N024NONREF", "EUR")
    assert line.value_date == dt.date(2016, 2, 29)
    assert line.booking_date == dt.date(2016, 3, 1)


@pytest.mark.parametrize("value", ["", "garbage", "1913450101C1,00NTRF", "200101X1,00NTRF"])
def test_unreadable_statement_lines_raise_input_error(value: str) -> None:
    with pytest.raises(InputError):
        parse_statement_line(value, "EUR")


# --- MT942 fields -----------------------------------------------------------------------------


def test_mt942_fields() -> None:
    assert parse_floor_limit_currency("EURD0,00") == "EUR"
    assert parse_floor_limit_currency("PLN0") == "PLN"
    created = parse_date_time("1701191815+0100")
    assert created == dt.datetime(2017, 1, 19, 18, 15,
                                  tzinfo=dt.timezone(dt.timedelta(hours=1)))
    total = parse_entry_total("3PLN0,03")
    assert (total.count, total.amount) == (3, Decimal("0.03"))


# --- why :61: has its own pattern -------------------------------------------------------------


@pytest.mark.parametrize(("value", "problem"), [
    ("2001020102D2000,00NOVBNL29INGB0006475121\nj blom", "fails"),  # ASN IBAN reference
    ("030110C000000043985.66NMSCNONREF", "drops cents"),  # old Rabobank '.' decimals
    ("0906230624D12,50NONREF", "NONREF as type code"),  # no type code at all
])
def test_the_library_statement_pattern_misreads_what_we_read(value: str, problem: str) -> None:
    """The `mt-940` library's own `:61:` pattern on dialects we meet in real files."""
    import mt940

    library = mt940.tags.Tags.STATEMENT.value.re.match(value)
    if problem == "fails":
        assert library is None
    elif problem == "drops cents":
        assert library is not None and library.group("amount") == "000000043985"
    else:
        assert library is not None and library.group("id") == "NONR"
    ours = parse_statement_line(value, "EUR")
    assert ours.amount in (Decimal("-2000.00"), Decimal("43985.66"), Decimal("-12.50"))
    assert ours.customer_reference is None


def test_date_time_indication_west_of_utc_and_without_offset() -> None:
    assert parse_date_time("1701191815-0130").utcoffset() == -dt.timedelta(hours=1, minutes=30)
    assert parse_date_time("1701191815").tzinfo is None
    with pytest.raises(InputError):
        parse_date_time("1701192575")
