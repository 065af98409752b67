"""From cleaned MT940/MT942 text to `Statement` records.

The tokenizer is ours: a tag starts on a line of its own with a known tag id (`:20:`, `:61:`,
`:NS:` ...), every other line continues the tag before it. A line like `:26:37 Fo?25...`
inside a wrapped `:86:` is therefore text, not a tag. Each `:20:` opens a statement. Field
values are read by `fields` (on the `mt-940` library's field layouts) and `details`.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from parsers.mt940 import fields
from parsers.mt940.details import Details, parse_details, parse_iban_first_line
from reconciler.domain.bank import EntryStatus, Statement, StatementKind, Transaction
from reconciler.domain.common import Diagnostic, Severity
from reconciler.errors import InputError, ParseError

# The MT940/MT942 tag numbers; any letter option may follow (`:60F:`, `:28C:`, and variants
# such as `:65F:` that some banks invent). Other numbers, like `:26:` at the start of a
# wrapped :86: line, are text.
KNOWN_TAG_NUMBERS = ("13", "20", "21", "25", "28", "34", "60", "61", "62", "64", "65", "86",
                     "90")
_IBAN = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}")
NO_CURRENCY = "XXX"  # ISO 4217's code for "no currency involved"

# Code pairs such as ('gvc', '166') repeat on nearly every entry of a file: one shared tuple
# each keeps a large statement's memory near the size of its text.
_SHARED: dict[tuple[object, ...], tuple[object, ...]] = {}


def _shared(value: tuple[Any, ...]) -> tuple[Any, ...]:
    if len(_SHARED) > 50_000:
        _SHARED.clear()
    return _SHARED.setdefault(value, value)


@dataclass(slots=True)
class Tag:
    name: str
    value: str
    line: int


# A line that starts a known tag. Anything else, even `:26:` inside a wrapped :86:, is text.
_TAG_LINE = re.compile(
    r"^:((?:" + "|".join(KNOWN_TAG_NUMBERS) + r")[A-Z]?|NS):", re.MULTILINE
)


_BLANK_LINE = re.compile(r"\n[ \t]*(?=\n|$)")


def tokenize(text: str) -> Iterator[Tag]:
    """Split cleaned text into tags; continuation lines join their tag with '\\n'.

    Lines keep their trailing spaces: ASN pads `:86:` lines to 65 columns and wraps
    mid-word, so a space at the end of a line can be part of the text. Empty lines go.
    Tags come one at a time, so a large file is never held as tags all at once.
    """
    line = 1
    position = 0
    previous: re.Match[str] | None = None
    for match in _TAG_LINE.finditer(text):
        if previous is not None:
            yield _tag(text, previous, match.start() - 1, line)
        line += text.count("\n", position, match.start())
        position = match.start()
        previous = match
    if previous is not None:
        yield _tag(text, previous, len(text), line)


def _tag(text: str, match: re.Match[str], end: int, line: int) -> Tag:
    value = text[match.end():end]
    if "\n" in value:
        value = _BLANK_LINE.sub("", value)
    return Tag(match.group(1), value, line)


@dataclass(slots=True)
class _Reader:
    filename: str | None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def where(self, line: int) -> str:
        return f"{self.filename}, line {line}" if self.filename else f"line {line}"

    def report(self, severity: Severity, message: str, line: int, code: str) -> None:
        self.diagnostics.append(Diagnostic(severity, message, self.where(line), code))

    def read(self, tags: Iterable[Tag]) -> list[Statement]:
        statements: list[Statement] = []
        current: list[Tag] | None = None
        first_line: int | None = None
        for tag in tags:
            first_line = first_line or tag.line
            if tag.name == "20":
                if current is not None:
                    statements.append(self.read_statement(current))
                current = [tag]
            elif current is not None:
                current.append(tag)
            else:
                self.report(Severity.WARNING, f"tag :{tag.name}: before the first :20: ignored",
                            tag.line, "mt940-stray-tag")
        if current is None:
            raise ParseError("no statement found: an MT940/MT942 message starts with :20:",
                             where=self.where(first_line or 1))
        statements.append(self.read_statement(current))
        return statements

    def read_statement(self, tags: list[Tag]) -> Statement:
        head = _StatementHead(statement_id=tags[0].value.strip() or None, line=tags[0].line)
        entries: list[tuple[Tag, Tag | None]] = []
        last_was_entry = False
        for tag in tags[1:]:
            name = tag.name
            if name == "61":
                entries.append((tag, None))
                last_was_entry = True
                continue
            if name == "86":
                if last_was_entry and entries[-1][1] is None:
                    entries[-1] = (entries[-1][0], tag)
                # Otherwise statement-level information (ABN AMRO `/SUM/`, a bank's name
                # after :62F:): nothing to book.
                continue
            if name != "NS":
                last_was_entry = False
            try:
                head.take(name, tag.value)
            except InputError as error:
                # An unreadable available balance costs nothing to the reconciliation.
                severity = Severity.WARNING if name[:2] in ("64", "65") else Severity.ERROR
                self.report(severity, f":{name}: {error.message}", tag.line, "mt940-bad-field")
        if not head.account:
            self.report(Severity.ERROR, "statement without account (:25:)", head.line,
                        "mt940-no-account")
        currency = head.currency()
        if currency == NO_CURRENCY:
            self.report(Severity.WARNING, "no currency in balances or account", head.line,
                        "mt940-no-currency")
        kind = head.kind()
        status = EntryStatus.PENDING if kind is StatementKind.REPORT else EntryStatus.BOOKED
        transactions = []
        for line_tag, details_tag in entries:
            transaction = self.read_transaction(line_tag, details_tag, currency, status)
            if transaction is not None:
                transactions.append(transaction)
        return head.statement(currency, kind, tuple(transactions))

    def read_transaction(self, line_tag: Tag, details_tag: Tag | None, currency: str,
                         status: EntryStatus) -> Transaction | None:
        try:
            line = fields.parse_statement_line(line_tag.value, currency)
        except InputError as error:
            self.report(Severity.ERROR, f":61: {error.message}; entry skipped", line_tag.line,
                        "mt940-bad-entry")
            return None
        raw = f":61:{line_tag.value}"
        if details_tag is not None:
            details = parse_details(details_tag.value)
            raw += f"\n:86:{details_tag.value}"
        else:
            details = Details()
        supplementary = line.supplementary_details
        if supplementary and not details.counterparty_iban and _IBAN.match(supplementary):
            # Rabobank and ASN / SNS write the counterparty account in the :61: supplementary
            # details (after the IBAN pre-processor, `IBAN name` for ASN / SNS).
            from_line = parse_iban_first_line(supplementary)
            if from_line is not None and _IBAN.fullmatch(from_line.counterparty_iban or ""):
                details.counterparty_iban = from_line.counterparty_iban
                details.counterparty_name = details.counterparty_name or \
                    from_line.counterparty_name
        extra = dict(details.extra)
        if line.funds_code:
            extra["funds_code"] = line.funds_code
        if supplementary:
            extra["supplementary_details"] = supplementary
        return Transaction(
            amount=line.amount,
            currency=currency,
            # SWIFT leaves out the entry date when it equals the value date.
            booking_date=line.booking_date or line.value_date,
            value_date=line.value_date,
            bank_reference=line.bank_reference,
            end_to_end_id=details.end_to_end_id,
            counterparty_name=details.counterparty_name,
            counterparty_iban=details.counterparty_iban,
            counterparty_bic=details.counterparty_bic,
            ultimate_debtor=details.ultimate_debtor,
            creditor_reference=details.creditor_reference,
            remittance_text=details.remittance_text,
            bank_transaction_code=sys.intern(line.type_code) if line.type_code else None,
            # MT940 has one reference per entry: the bank's own, as CAMT's entry AcctSvcrRef.
            entry_reference=line.bank_reference,
            status=status,
            return_reason=details.return_reason,
            mandate_reference=details.mandate_reference,
            customer_reference=line.customer_reference or details.customer_reference,
            purpose_code=details.purpose_code,
            is_reversal=line.is_reversal,
            source_line=f"line {line_tag.line}",
            raw=raw,
            extra=_shared(tuple(_shared(pair) for pair in extra.items())),
        )


@dataclass(slots=True)
class _StatementHead:
    """The statement-level tags as they are read."""

    statement_id: str | None
    line: int
    account: str = ""
    account_currency: str | None = None
    sequence: str | None = None
    opening: fields.Balance | None = None
    closing: fields.Balance | None = None
    other_balance_currency: str | None = None
    floor_limit_currency: str | None = None
    created_at: fields.dt.datetime | None = None
    debit_total: fields.EntryTotal | None = None
    credit_total: fields.EntryTotal | None = None

    def take(self, name: str, value: str) -> None:
        number = name[:2]
        if number == "25":
            account = fields.split_account_currency(value)
            self.account, self.account_currency = account.identification, account.currency
        elif number == "28":
            self.sequence = fields.parse_statement_number(value)
        elif number == "60":
            balance = fields.parse_balance(value)
            # Intermediate balances (:60M:) open later pages: the statement opens with the first.
            self.opening = self.opening or balance
        elif number == "62":
            self.closing = fields.parse_balance(value)  # the last one closes the statement
        elif number in ("64", "65"):
            # Available balances: not part of opening + entries = closing.
            self.other_balance_currency = self.other_balance_currency or \
                fields.parse_balance(value).currency
        elif number == "34":
            self.floor_limit_currency = fields.parse_floor_limit_currency(value)
        elif number == "13":
            self.created_at = fields.parse_date_time(value)
        elif name == "90D":
            self.debit_total = fields.parse_entry_total(value)
        elif name == "90C":
            self.credit_total = fields.parse_entry_total(value)

    def currency(self) -> str:
        for balance in (self.opening, self.closing):
            if balance is not None:
                return balance.currency
        return (self.floor_limit_currency or self.account_currency
                or self.other_balance_currency or NO_CURRENCY)

    def kind(self) -> StatementKind:
        """MT942 carries the floor limit :34F:, which MT940 does not have."""
        if self.floor_limit_currency is not None:
            return StatementKind.REPORT
        has_totals = self.debit_total is not None or self.credit_total is not None
        if has_totals and self.opening is None and self.closing is None:
            return StatementKind.REPORT
        return StatementKind.STATEMENT

    def statement(self, currency: str, kind: StatementKind,
                  transactions: tuple[Transaction, ...]) -> Statement:
        declared_count: int | None = None
        declared_sum: Decimal | None = None
        if self.debit_total is not None and self.credit_total is not None:
            declared_count = self.debit_total.count + self.credit_total.count
            declared_sum = self.credit_total.amount - self.debit_total.amount
        return Statement(
            account=self.account,
            currency=currency,
            statement_id=self.statement_id,
            sequence=self.sequence,
            opening_balance=self.opening.amount if self.opening else None,
            closing_balance=self.closing.amount if self.closing else None,
            opening_date=self.opening.date if self.opening else None,
            closing_date=self.closing.date if self.closing else None,
            transactions=transactions,
            kind=kind,
            created_at=self.created_at,
            declared_count=declared_count,
            declared_sum=declared_sum,
            source_line=f"line {self.line}",
        )


def read_statements(text: str, filename: str | None) -> tuple[list[Statement], list[Diagnostic]]:
    reader = _Reader(filename)
    statements = reader.read(tokenize(text))
    return statements, reader.diagnostics
