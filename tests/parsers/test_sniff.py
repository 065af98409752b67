"""Format sniffing and encoding detection."""

from __future__ import annotations

import pytest

from parsers.encoding import declared_xml_encoding, decode_text
from parsers.sniff import sniff
from reconciler.errors import ParseError


@pytest.mark.parametrize(("head", "expected"), [
    (b'<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">',
     ("camt", "camt.053.001.08")),
    (b"\xef\xbb\xbf<Document xmlns='urn:iso:std:iso:20022:tech:xsd:camt.052.001.13'>",
     ("camt", "camt.052.001.13")),
    (b"<BizMsg><AppHdr><MsgDefIdr>camt.054.001.02</MsgDefIdr></AppHdr>",
     ("camt", "camt.054.001.02")),
    (b"<Document><BkToCstmrDbtCdtNtfctn>", ("camt", "camt.054")),
    (b"<pain><x/></pain>", ("camt", "camt")),  # the reader names what is missing
    (b":20:STARTUMS\r\n:25:10020030/1234567\r\n:28C:1/1\r\n:60F:C020315DEM0,00\r\n",
     ("mt", "mt940")),
    (b"{1:F01INGBNL2AXXXX0000000000}{2:O9401200}{4:\r\n:20:X\r\n", ("mt", "mt940")),
    (b"{1:F01BANKDEFFXXXX}{2:I942BANKDEFFXXXXN}{4:\r\n:20:X\r\n", ("mt", "mt942")),
    (b":20:X\n:25:DE89370400440532013000\n:28C:1\n:34F:EURD0,\n:13D:2611201200+0100\n",
     ("mt", "mt942")),
    (b"\r\n\r\n:940:\r\n:20:940S130403\r\n", ("mt", "mt940")),
])
def test_sniff(head: bytes, expected: tuple[str, str]) -> None:
    sniffed = sniff(head)
    assert (sniffed.family, sniffed.format) == expected


@pytest.mark.parametrize("data", [b"", b"   \r\n", b"%PDF-1.4 binary", b"\x00\x01\x02\x03",
                                  b"Date;Amount;Text\n2026-11-20;1,00;x\n"])
def test_sniff_refuses_what_is_no_bank_file(data: bytes) -> None:
    with pytest.raises(ParseError) as raised:
        sniff(data, filename="upload.bin")
    assert "upload.bin" in str(raised.value)


def test_decode_text_fallbacks() -> None:
    assert decode_text("Müller".encode()) == ("Müller", "utf-8")
    assert decode_text(b"\xef\xbb\xbf:20:X") == (":20:X", "utf-8-sig")
    assert decode_text("Müller €".encode("cp1252")) == ("Müller €", "cp1252")
    # 0x81 is undefined in cp1252: only Latin-1 reads every byte.
    assert decode_text(b"A\x81B") == ("A\x81B", "latin-1")


def test_declared_xml_encoding() -> None:
    assert declared_xml_encoding(b'<?xml version="1.0" encoding="ISO-8859-1"?><a/>') == \
        "ISO-8859-1"
    assert declared_xml_encoding(b"\xef\xbb\xbf<?xml version='1.0' encoding='utf-8'?>") == "utf-8"
    assert declared_xml_encoding(b"<a/>") is None
