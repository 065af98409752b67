"""Property: whatever a mangled file holds, the parser answers with results or ParseError.

Valid messages are mutated at random (characters deleted, inserted, replaced; lines
dropped, doubled, swapped; the text cut short). The parser must never raise anything but
`ParseError`, and what it returns must keep the domain's types.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from parsers.mt940 import parse_mt940
from reconciler.domain.bank import Statement
from reconciler.errors import ParseError
from tests.parsers_mt940.samples import GERMAN_TWO_PAGES, ING_SWIFT, MBANK_MT942

SEEDS = (GERMAN_TWO_PAGES, ING_SWIFT, MBANK_MT942,
         "ABNANL2A\n940\nABNANL2A\n:20:ABN AMRO BANK NV\n:25:500950253\n:28:17501/1\n"
         ":60F:C090623EUR17369,99\n:61:0906230624D7,5N192NONREF\n"
         ":86:GIRO   428428 KPN BV             BETALINGSKENM.  000000018503995\n"
         ":61:030109C000000000300.00NMSC170059286\n:86:/ORDP//NAME/X/REMI/Y\n"
         ":61:2001020102D2000,00NOVBNL29INGB0006475121\nj blom\n"
         ":86:NL29INGB0006475121 j blom\n:62F:C090624EUR17159,49\n-\n")

# Characters that mean something to MT940 and its dialects, plus a few that do not.
ALPHABET = st.sampled_from([*":0123456789/,.?+>-{}CDRNSFEUXZ \n\r\t", "é", "\x00", "€"])


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["delete", "insert", "replace", "lines", "truncate"]))
        position = draw(st.integers(0, len(text)))
        if kind == "delete":
            text = text[:position] + text[position + draw(st.integers(1, 12)):]
        elif kind == "insert":
            text = text[:position] + draw(st.text(ALPHABET, min_size=1, max_size=8)) + \
                text[position:]
        elif kind == "replace" and position < len(text):
            text = text[:position] + draw(ALPHABET) + text[position + 1:]
        elif kind == "lines":
            lines = text.split("\n")
            i = draw(st.integers(0, len(lines) - 1))
            j = draw(st.integers(0, len(lines) - 1))
            action = draw(st.sampled_from(["drop", "double", "swap"]))
            if action == "drop":
                del lines[i]
            elif action == "double":
                lines.insert(i, lines[j])
            else:
                lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
        elif kind == "truncate":
            text = text[:position]
    return text


def _check(statements: list[Statement]) -> None:
    for statement in statements:
        assert isinstance(statement.account, str)
        for balance in (statement.opening_balance, statement.closing_balance):
            assert balance is None or isinstance(balance, Decimal)
        for transaction in statement.transactions:
            assert isinstance(transaction.amount, Decimal)
            assert transaction.source_line is not None


@settings(max_examples=250, deadline=None)
@given(mutated())
def test_mutated_messages_give_results_or_parse_error(text: str) -> None:
    try:
        statements, diagnostics = parse_mt940(text, filename="mutated.sta")
    except ParseError as error:
        assert error.where is not None
        return
    _check(statements)
    assert all(d.where is not None for d in diagnostics)


@settings(max_examples=150, deadline=None)
@given(st.text(ALPHABET, max_size=300))
def test_arbitrary_text_gives_results_or_parse_error(text: str) -> None:
    try:
        statements, _ = parse_mt940(":20:X\n" + text)
    except ParseError:
        return
    _check(statements)
