"""Hostile and broken input: only ever a clear ParseError, never another exception, never
an entity expanded, a file read or the network touched."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parsers import parse
from parsers.camt import CamtReader
from reconciler.errors import ParseError

FIXTURES = Path(__file__).parent / "fixtures"
VALID = [p.read_bytes() for p in sorted(FIXTURES.glob("*.xml"))]
MT940 = (b"{1:F01BANKDEFFAXXX0000000000}{2:O940BANKDEFFAXXXN}{4:\r\n:20:REF1\r\n"
         b":25:DE89370400440532013000\r\n:28C:00012/001\r\n:60F:C261119EUR100,00\r\n"
         b":61:2611201120CR25,00NTRFNONREF//BANK1\r\n"
         b":86:166?00GUTSCHRIFT?20EREF+E2E1?21SVWZ+RE 4711?32Jan Jansen\r\n"
         b":61:2611201120DR5,50NMSCKREF1//BANK2\r\n:86:/TRTP/SEPA/NAME/X/REMI/Y/\r\n"
         b":62F:C261120EUR119,50\r\n-}")

_STATEMENT = (b"<Document><BkToCstmrStmt><Stmt><Id>%s</Id><Acct><Id><IBAN>X</IBAN></Id></Acct>"
              b'<Ntry><Amt Ccy="EUR">1</Amt><CdtDbtInd>CRDT</CdtDbtInd></Ntry>'
              b"</Stmt></BkToCstmrStmt></Document>")

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE Document [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
""" + _STATEMENT % b"&lol9;"

XXE_FILE = (b'<?xml version="1.0"?>\n<!DOCTYPE Document [<!ENTITY xxe SYSTEM '
            b'"file:///etc/passwd">]>\n' + _STATEMENT % b"&xxe;")
XXE_NETWORK = (b'<?xml version="1.0"?>\n<!DOCTYPE Document [<!ENTITY xxe SYSTEM '
               b'"http://127.0.0.1:9/secret">]>\n' + _STATEMENT % b"&xxe;")
XXE_PARAMETER = (b'<?xml version="1.0"?>\n<!DOCTYPE Document [<!ENTITY % dtd SYSTEM '
                 b'"http://127.0.0.1:9/evil.dtd"> %dtd;]>\n' + _STATEMENT % b"S")
EXTERNAL_DTD = (b'<?xml version="1.0"?>\n<!-- a comment first -->\n'
                b'<!DOCTYPE Document SYSTEM "camt.053.dtd">\n' + _STATEMENT % b"S")


@pytest.mark.parametrize("data", [BILLION_LAUGHS, XXE_FILE, XXE_NETWORK, XXE_PARAMETER,
                                  EXTERNAL_DTD, b"\xef\xbb\xbf" + XXE_FILE],
                         ids=["billion-laughs", "xxe-file", "xxe-network", "xxe-parameter",
                              "external-dtd", "bom-then-xxe"])
def test_doctype_is_refused_outright(data: bytes) -> None:
    with pytest.raises(ParseError) as raised:
        parse(data, filename="evil.xml")
    message = str(raised.value)
    assert message.startswith("evil.xml: line ")
    assert "DOCTYPE" in message
    assert "root:" not in message  # /etc/passwd was never read


def test_doctype_refused_from_a_stream_that_cannot_seek() -> None:
    class OneWay(io.BytesIO):
        """A pipe or socket: read once, no seeking back to look at the prolog."""

        def seekable(self) -> bool:
            return False

    with pytest.raises(ParseError, match="DOCTYPE"):
        list(CamtReader(OneWay(XXE_FILE), filename="evil.xml"))


def test_deep_nesting_is_refused() -> None:
    depth = 5000
    data = b"<Document><BkToCstmrStmt>" + b"<a>" * depth + b"</a>" * depth + \
        b"</BkToCstmrStmt></Document>"
    with pytest.raises(ParseError) as raised:
        parse(data, filename="deep.xml")
    assert str(raised.value).startswith("deep.xml: line 1")


def test_undeclared_entity_is_refused() -> None:
    with pytest.raises(ParseError, match="malformed XML"):
        parse(_STATEMENT % b"&secret;", filename="e.xml")


@pytest.mark.parametrize("data", [
    b"<" + bytes(range(256)) * 4,
    b"<Document xmlns='urn:iso:std:iso:20022:tech:xsd:camt.053.001.08'><BkToCstmrStmt><Stmt>",
    b"<?xml version='1.0'?><Document/>",
    b"<Document><BkToCstmrStmt><GrpHdr/></BkToCstmrStmt></Document>",
    _STATEMENT.replace(b">1<", b">12.3.4<") % b"S",
    _STATEMENT.replace(b"CRDT", b"CRD") % b"S",
    _STATEMENT.replace(b'<Amt Ccy="EUR">1</Amt>', b"") % b"S",
    _STATEMENT.replace(b">1<", b">NaN<") % b"S",
], ids=["binary", "truncated", "no-message", "no-statement", "bad-amount", "bad-indicator",
        "no-amount", "nan-amount"])
def test_broken_files_name_file_and_place(data: bytes) -> None:
    with pytest.raises(ParseError) as raised:
        parse(data, filename="broken.xml")
    assert str(raised.value).startswith("broken.xml: ")


def test_bad_amount_names_the_xpath() -> None:
    with pytest.raises(ParseError) as raised:
        parse(_STATEMENT.replace(b">1<", b">12.3.4<") % b"S", filename="b.xml")
    assert "/Document/BkToCstmrStmt/Stmt[1]/Ntry[1]" in str(raised.value)


def _parse_or_parse_error(data: bytes) -> None:
    try:
        parse(data, filename="mutant.xml")
    except ParseError as exc:
        assert str(exc).startswith("mutant.xml")


mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10**6), st.integers(0, 255)),
    st.tuples(st.just("truncate"), st.integers(0, 10**6), st.just(0)),
    st.tuples(st.just("delete-tag"), st.integers(0, 10**6), st.just(0)),
    st.tuples(st.just("insert"), st.integers(0, 10**6), st.integers(0, 255)),
)


def _mutate(data: bytes, kind: str, position: int, value: int) -> bytes:
    position %= max(len(data), 1)
    if kind == "flip":
        return data[:position] + bytes([value]) + data[position + 1:]
    if kind == "truncate":
        return data[:position]
    if kind == "insert":
        return data[:position] + bytes([value]) + data[position:]
    # delete the tag (start or end) at or after `position`
    start = data.find(b"<", position)
    end = data.find(b">", start)
    return data if start < 0 or end < 0 else data[:start] + data[end + 1:]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(range(len(VALID))), st.lists(mutation, min_size=1, max_size=4))
def test_mutated_camt_never_raises_anything_but_parse_error(
        index: int, mutations: list[tuple[str, int, int]]) -> None:
    data = VALID[index]
    for kind, position, value in mutations:
        data = _mutate(data, kind, position, value)
    _parse_or_parse_error(data)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_never_raise_anything_but_parse_error(data: bytes) -> None:
    _parse_or_parse_error(data)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(range(len(VALID))), st.text(max_size=30))
def test_text_spliced_into_values_never_raises_anything_else(index: int, text: str) -> None:
    data = VALID[index].replace(b">1000.00<", b">" + text.encode("utf-8", "replace") + b"<")
    data = data.replace(b">BOOK<", b">" + text.encode("utf-8", "replace")[:8] + b"<")
    _parse_or_parse_error(data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(mutation, min_size=1, max_size=4))
def test_mutated_mt940_never_raises_anything_but_parse_error(
        mutations: list[tuple[str, int, int]]) -> None:
    data = MT940
    for kind, position, value in mutations:
        data = _mutate(data, kind, position, value)
    _parse_or_parse_error(data)


def test_every_fixture_is_valid_input(fixture_bytes: Callable[[str], bytes]) -> None:
    assert len(VALID) >= 6
    for data in [*VALID, MT940]:
        assert parse(data).statements
