"""Text pre-processors: each removes one bank's envelope and keeps the line count."""

from __future__ import annotations

from parsers.mt940.envelope import (
    TEXT_PRE_PROCESSORS,
    blank_text_outside_messages,
    clean_envelope,
    normalise_line_endings,
    strip_control_characters,
    strip_swift_blocks,
)


def test_line_endings_crlf_and_bare_cr_become_lf() -> None:
    assert normalise_line_endings(":20:A\r\n:25:B\r:28C:1") == ":20:A\n:25:B\n:28C:1"


def test_mbank_soh_etx_and_bom_are_dropped() -> None:
    assert strip_control_characters("\ufeff\x01\n:20:X\n-\x03") == "\n:20:X\n-"


def test_tabs_survive_control_character_stripping() -> None:
    assert strip_control_characters(":86:a\tb") == ":86:a\tb"


def test_swift_blocks_on_one_line() -> None:
    text = "{1:F01ASNBNL21XXXX0000000000}{2:O940ASNBNL21XXXXN}{3:}{4:\n:20:0000\n-}{5:}"
    assert strip_swift_blocks(text) == "\n:20:0000\n-"


def test_swift_blocks_on_several_lines_keep_line_count() -> None:
    text = "{1:F01INGBNL2AXXXX00001}\n{2:I940INGBNL2AXXXN}\n{4:\n:20:P1\n-}"
    cleaned = strip_swift_blocks(text)
    assert cleaned.split("\n") == ["", "", "", ":20:P1", "-"]


def test_swift_user_header_with_nested_block() -> None:
    text = "{1:F01X}{2:O940Y}{3:{108:MUR123}}{4:\n:20:R"
    assert strip_swift_blocks(text) == "\n:20:R"


def test_abn_amro_three_line_headers_before_each_message() -> None:
    text = "ABNANL2A\n940\nABNANL2A\n:20:ABN\n:25:1\n-\nABNANL2A\n940\nABNANL2A\n:20:ABN"
    assert blank_text_outside_messages(text).split("\n") == [
        "", "", "", ":20:ABN", ":25:1", "", "", "", "", ":20:ABN"]


def test_old_ing_header_and_xxx_trailer() -> None:
    text = "0000 01INGBNL2AXXXX00001\n0000 01INGBNL2AXXXX00001\n940 00\n:20:P\n:25:1\n-XXX"
    assert blank_text_outside_messages(text).split("\n") == ["", "", "", ":20:P", ":25:1", ""]


def test_rabobank_leading_940_line() -> None:
    assert blank_text_outside_messages(":940:\n:20:940S1\n:25:NL1") == "\n:20:940S1\n:25:NL1"


def test_free_prose_before_first_message() -> None:
    text = "Kontoauszug erstellt am 01.02.2020\nBitte pruefen\n:20:STARTUMS"
    assert blank_text_outside_messages(text) == "\n\n:20:STARTUMS"


def test_dash_inside_wrapped_details_is_kept() -> None:
    # Old ING wraps :86: anywhere; a line holding only '-' is text when a :61: follows.
    text = ":20:P\n:86:/MARF/MND\n-\nEV01\n:61:x\n-"
    assert blank_text_outside_messages(text).split("\n") == [
        ":20:P", ":86:/MARF/MND", "-", "EV01", ":61:x", ""]


def test_clean_envelope_runs_every_pre_processor_and_keeps_lines() -> None:
    text = "\x01{1:F01A}{2:O940B}{4:\r\n:20:X\r\n:25:NL1\r\n-}\r\n"
    cleaned = clean_envelope(text)
    assert cleaned.split("\n") == ["", ":20:X", ":25:NL1", "", ""]
    assert len(TEXT_PRE_PROCESSORS) == 4
    assert all(p.__doc__ for p in TEXT_PRE_PROCESSORS)
