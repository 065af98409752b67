"""Checks every parsed file gets, whatever its format. Findings are diagnostics, never raised.

- `balance-mismatch` (error): opening + booked entries must equal closing. Pending and
  information-only entries are not on the ledger yet and are left out. Booking date, not
  value date, decides what a closing booked balance contains (PostFinance books entries
  value-dated after the statement date into it), so no entry is left out for its value date.
- `summary-mismatch` (warning): the bank's own control totals (CAMT `TxsSummry`) against the
  entries it sent.
- `chain-break` (warning): one statement's closing balance is the next one's opening balance,
  for the statements of one account in one file.
- `sequence-gap` (warning): statement numbers of one account should follow each other; a gap
  means a statement is missing and its transactions with it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal

from reconciler.domain.bank import EntryStatus, Statement, Transaction
from reconciler.domain.common import Diagnostic, Severity
from reconciler.money import ZERO

_NUMBER = re.compile(r"\d+")


def check_statements(statements: Sequence[Statement]) -> list[Diagnostic]:
    diagnostics: list[Diagnostic] = []
    for statement in statements:
        mismatch = check_balance(statement)
        if mismatch is not None:
            diagnostics.append(mismatch)
        diagnostics.extend(check_summary(statement))
    diagnostics.extend(check_chain(statements))
    return diagnostics


def entry_amounts(transactions: Iterable[Transaction]) -> Iterator[tuple[Transaction, Decimal]]:
    """(first transaction, entry amount) per booking entry.

    The parts of a CAMT batch entry carry the entry's own amount; the balance adds up what
    the bank booked, which is that amount even when the parts' details say otherwise.
    """
    current_entry: str | None = None
    for transaction in transactions:
        extra = dict(transaction.extra)
        entry_amount = extra.get("entry_amount")
        if entry_amount is None:
            current_entry = None
            yield transaction, transaction.amount
            continue
        entry_path = extra.get("entry_path") or ""
        if entry_path != current_entry:
            current_entry = entry_path
            yield transaction, Decimal(entry_amount)


def booked_total(transactions: Iterable[Transaction]) -> tuple[int, Decimal]:
    count, total = 0, ZERO
    for first, amount in entry_amounts(transactions):
        if first.status is EntryStatus.BOOKED:
            count += 1
            total += amount
    return count, total


def check_balance(statement: Statement) -> Diagnostic | None:
    if statement.opening_balance is None or statement.closing_balance is None:
        return None
    _, booked = booked_total(statement.transactions)
    expected = statement.opening_balance + booked
    if expected == statement.closing_balance:
        return None
    difference = statement.closing_balance - expected
    message = (
        f"statement {statement.statement_id or '?'} of account {statement.account or '?'} does "
        f"not balance: opening {statement.opening_balance} + booked entries {booked} = "
        f"{expected}, but the closing balance is {statement.closing_balance} "
        f"(difference {difference} {statement.currency})"
    )
    hint = _late_value_date_hint(statement, difference)
    return Diagnostic(Severity.ERROR, message + hint, statement.source_line, "balance-mismatch")


def _late_value_date_hint(statement: Statement, difference: Decimal) -> str:
    """Name the entries value-dated after the closing date when they explain the gap."""
    if statement.closing_date is None:
        return ""
    late = [(t, a) for t, a in entry_amounts(statement.transactions)
            if t.status is EntryStatus.BOOKED and t.value_date is not None
            and t.value_date > statement.closing_date]
    if late and -sum((a for _, a in late), ZERO) == difference:
        return (f"; it would balance without the {len(late)} booked entries value-dated after "
                f"{statement.closing_date}")
    return ""


def check_summary(statement: Statement) -> list[Diagnostic]:
    if statement.declared_count is None and statement.declared_sum is None:
        return []
    count, net = 0, ZERO
    for _, amount in entry_amounts(statement.transactions):
        count += 1
        net += amount
    problems = []
    if statement.declared_count is not None and statement.declared_count != count:
        problems.append(f"declares {statement.declared_count} entries but has {count}")
    if statement.declared_sum is not None and statement.declared_sum != net:
        problems.append(f"declares a net total of {statement.declared_sum} but its entries "
                        f"add up to {net}")
    if not problems:
        return []
    return [Diagnostic(Severity.WARNING,
                       f"statement {statement.statement_id or '?'} " + "; ".join(problems),
                       statement.source_line, "summary-mismatch")]


def check_chain(statements: Sequence[Statement]) -> list[Diagnostic]:
    diagnostics: list[Diagnostic] = []
    previous: dict[tuple[str, str], Statement] = {}
    for statement in statements:
        key = (statement.account, statement.currency)
        before = previous.get(key)
        previous[key] = statement
        if before is None or not statement.account:
            continue
        if (before.closing_balance is not None and statement.opening_balance is not None
                and before.closing_balance != statement.opening_balance):
            diagnostics.append(Diagnostic(
                Severity.WARNING,
                f"account {statement.account}: statement {statement.statement_id or '?'} opens "
                f"with {statement.opening_balance}, but the statement before it "
                f"({before.statement_id or '?'}) closed with {before.closing_balance}",
                statement.source_line, "chain-break"))
        gap = _sequence_gap(before.sequence, statement.sequence)
        if gap:
            diagnostics.append(Diagnostic(
                Severity.WARNING,
                f"account {statement.account}: statement number {statement.sequence} follows "
                f"{before.sequence}; {gap}", statement.source_line, "sequence-gap"))
    return diagnostics


def _sequence_gap(before: str | None, after: str | None) -> str | None:
    """MT940 writes 'statement/page' ('00012/001'), CAMT a plain number."""
    a, b = _numbers(before), _numbers(after)
    if not a or not b:
        return None
    if b[0] == a[0]:
        # Same statement, next page ('00012/001' then '00012/002'); a repeat is no gap.
        if len(a) > 1 and len(b) > 1 and b[1] > a[1] + 1:
            return f"{b[1] - a[1] - 1} page(s) of the statement missing"
        return None
    if b[0] == a[0] + 1:
        return None
    if b[0] > a[0] + 1:
        return f"{b[0] - a[0] - 1} statement(s) missing"
    # Numbers restart each year at many banks; a lower number is not a gap we can judge.
    return None


def _numbers(sequence: str | None) -> list[int]:
    return [int(n) for n in _NUMBER.findall(sequence or "")][:2]
