"""MT940 (customer statement) and MT942 (interim transaction report) parser. Pure.

`parse_mt940(text)` takes text the caller already decoded and returns the statements and the
data problems found. The path through the package:

1. `envelope`: text pre-processors strip what banks wrap around the tags (SWIFT blocks,
   ABN AMRO / bunq / ING headers, Rabobank's `:940:`, prose, trailers, CRLF);
2. `reader`: our tag tokenizer; each `:20:` opens a statement;
3. `fields`: the tag values, on the `mt-940` library's field layouts, with field
   pre-processors for the dialects (dot decimals, ASN IBAN references, ...);
4. `details`: the `:86:` text read into counterparty, references and remittance text.

The tokenizer is our own rather than `mt940.models.Transactions.parse`: it runs several
times faster (see `tests/benchmarks/mt940.py`) and does not lose statement-level data when
a file holds several statements.
"""

from __future__ import annotations

import re

from parsers.mt940.envelope import clean_envelope
from parsers.mt940.reader import read_statements
from reconciler.domain.bank import Statement
from reconciler.domain.common import Diagnostic
from reconciler.errors import ParseError

__all__ = ["parse_mt940"]

# SWIFT caps a line at 65 characters (`:86:` at 6 x 65). Banks overstep that, but a line of
# 64 KB is no statement: refuse it before any copy of the text is made.
MAX_LINE_CHARS = 64 * 1024
_OVERLONG_LINE = re.compile(rf"[^\n]{{{MAX_LINE_CHARS}}}")


def parse_mt940(text: str, *, filename: str | None = None
                ) -> tuple[list[Statement], list[Diagnostic]]:
    """Parse MT940/MT942 text; raise `ParseError` only when nothing can be read at all."""
    overlong = _OVERLONG_LINE.search(text)
    if overlong is not None:
        line = text.count("\n", 0, overlong.start()) + 1
        where = f"{filename}: line {line}" if filename else f"line {line}"
        raise ParseError(f"a line longer than {MAX_LINE_CHARS:,} characters: not an MT940 "
                         "statement", where=where)
    return read_statements(clean_envelope(text), filename)
