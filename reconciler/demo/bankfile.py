"""What the bank files share: a day's entries (batches kept together) and running balances."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from reconciler.demo.transaction import GeneratedPayment
from reconciler.money import ZERO


@dataclass(frozen=True, slots=True)
class Entry:
    """One booking on the account: a single transaction or a batch of several."""

    entry_id: str | None
    transactions: tuple[GeneratedPayment, ...]
    amount: Decimal  # the sum of the transactions: what the account moved by

    @classmethod
    def of(cls, entry_id: str | None, transactions: tuple[GeneratedPayment, ...]) -> Entry:
        return cls(entry_id, transactions, sum((t.amount for t in transactions), ZERO))

    @property
    def first(self) -> GeneratedPayment:
        return self.transactions[0]

    @property
    def reference(self) -> str:
        """The entry's own account-servicer reference: the batch id, else the transaction's."""
        return self.entry_id or self.first.bank_reference


@dataclass(frozen=True, slots=True)
class DayStatement:
    """One business day of the account: what the MT940 and camt.053 of that day report."""

    number: int  # statement number, counting from 1
    day: dt.date
    opening: Decimal
    entries: tuple[Entry, ...]

    @property
    def closing(self) -> Decimal:
        return self.opening + sum((e.amount for e in self.entries), ZERO)

    @property
    def credits(self) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e.amount > ZERO)

    @property
    def debits(self) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e.amount <= ZERO)


def group_entries(payments: list[GeneratedPayment]) -> list[Entry]:
    """Consecutive transactions with one `entry_id` form a batch entry; the others stand alone."""
    entries: list[Entry] = []
    batch: list[GeneratedPayment] = []
    for payment in payments:
        if batch and payment.entry_id != batch[0].entry_id:
            entries.append(Entry.of(batch[0].entry_id, tuple(batch)))
            batch = []
        if payment.entry_id is None:
            entries.append(Entry.of(None, (payment,)))
        else:
            batch.append(payment)
    if batch:
        entries.append(Entry.of(batch[0].entry_id, tuple(batch)))
    return entries


def day_statements(payments: list[GeneratedPayment], days: list[dt.date],
                   opening: Decimal) -> Iterator[DayStatement]:
    """One statement per business day (empty days too: banks send a nil statement)."""
    by_day: dict[dt.date, list[GeneratedPayment]] = {day: [] for day in days}
    for payment in payments:
        by_day.setdefault(payment.booking_date, []).append(payment)
    balance = opening
    for number, day in enumerate(sorted(by_day), start=1):
        statement = DayStatement(number, day, balance, tuple(group_entries(by_day[day])))
        balance = statement.closing
        yield statement
