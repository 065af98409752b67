"""Ground truth: what each generated bank transaction really pays, for tests and benchmarks.

Signs follow `reconciler.domain.Proposal`: per settled item the cash `applied` to it; the
cash discount settles items without moving cash; `bank_charge` (deducted by an intermediary
bank, so <= 0) and `unapplied` (overpayment kept on account, >= 0) are adjustments. For every
receivable row: sum(applied) + bank_charge + unapplied == amount. `short` is what the payer
meant to settle but did not pay (a late discount): it stays open on the item. Rows that are not
receivables (other credits, all debits) settle nothing and carry `expected = not_receivable`.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from reconciler.money import ZERO

# The outcome a careful reconciler should reach (a hint for benchmarks, not a rule):
#   auto            the evidence is unambiguous (our reference and the amount, a discount inside
#                   its terms, charges inside tolerance): applying without a person is right;
#   review          the settled items in the row are right, but a person should confirm them
#                   (no or a mistyped reference, a short or partial payment, an overpayment, a
#                   duplicate, another payer): a suggestion is the right result;
#   not_receivable  the transaction must not be applied to any open item.
EXPECTED = ("auto", "review", "not_receivable")

TRUTH_HEADER = (
    "bank_reference", "booking_date", "amount", "currency", "scenario", "noise", "customer_id",
    "settled", "discount", "bank_charge", "short", "unapplied", "expected", "payer_name",
    "payer_iban",
)


@dataclass(frozen=True, slots=True)
class TruthRow:
    bank_reference: str
    booking_date: dt.date
    amount: Decimal
    currency: str
    scenario: str
    customer_id: str | None
    settled: tuple[tuple[str, Decimal], ...] = ()  # (document_number, cash applied)
    discount: Decimal = ZERO
    bank_charge: Decimal = ZERO
    short: Decimal = ZERO
    unapplied: Decimal = ZERO
    expected: str = "auto"
    noise: tuple[str, ...] = ()  # modifiers on top of the scenario: name_variant, new_iban, ...
    payer_name: str | None = None
    payer_iban: str | None = None

    @property
    def applied(self) -> Decimal:
        return sum((amount for _, amount in self.settled), ZERO)

    @property
    def is_receivable(self) -> bool:
        return self.expected != "not_receivable"

    def balances(self) -> bool:
        """The cash identity of a receivable row (always true for the others)."""
        if not self.is_receivable:
            return not self.settled
        return self.applied + self.bank_charge + self.unapplied == self.amount


def format_settled(settled: tuple[tuple[str, Decimal], ...]) -> str:
    return ";".join(f"{number}:{amount:f}" for number, amount in settled)


def parse_settled(text: str) -> tuple[tuple[str, Decimal], ...]:
    if not text:
        return ()
    pairs = (part.rsplit(":", 1) for part in text.split(";"))
    return tuple((number, Decimal(amount)) for number, amount in pairs)


def write_truth(rows: Iterable[TruthRow], path: Path) -> int:
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(TRUTH_HEADER)
        for row in rows:
            writer.writerow((
                row.bank_reference, row.booking_date.isoformat(), f"{row.amount:f}", row.currency,
                row.scenario, "|".join(row.noise), row.customer_id or "",
                format_settled(row.settled), f"{row.discount:.2f}", f"{row.bank_charge:.2f}",
                f"{row.short:.2f}", f"{row.unapplied:.2f}", row.expected, row.payer_name or "",
                row.payer_iban or ""))
            count += 1
    return count


def read_truth(path: Path) -> list[TruthRow]:
    """Read a truth.csv back, for benchmarks that score a matcher against it."""
    rows: list[TruthRow] = []
    with path.open(encoding="utf-8", newline="") as handle:
        for record in csv.DictReader(handle):
            rows.append(TruthRow(
                bank_reference=record["bank_reference"],
                booking_date=dt.date.fromisoformat(record["booking_date"]),
                amount=Decimal(record["amount"]), currency=record["currency"],
                scenario=record["scenario"], customer_id=record["customer_id"] or None,
                settled=parse_settled(record["settled"]), discount=Decimal(record["discount"]),
                bank_charge=Decimal(record["bank_charge"]), short=Decimal(record["short"]),
                unapplied=Decimal(record["unapplied"]), expected=record["expected"],
                noise=tuple(n for n in record["noise"].split("|") if n),
                payer_name=record["payer_name"] or None, payer_iban=record["payer_iban"] or None))
    return rows
