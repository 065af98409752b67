"""Bank side: statements and transactions as the parsers produce them.

Sign convention: credit (money in) positive, debit negative.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from decimal import Decimal

from reconciler.domain.common import Diagnostic, Severity
from reconciler.domain.pickling import pickled_by_fields
from reconciler.money import ZERO


class EntryStatus(enum.StrEnum):
    BOOKED = "booked"
    PENDING = "pending"  # CAMT PDNG / MT942 interim lines: not yet on the ledger
    INFO = "info"  # CAMT INFO: advice only


class StatementKind(enum.StrEnum):
    STATEMENT = "statement"  # MT940, camt.053: end-of-day, balances booked
    REPORT = "report"  # MT942, camt.052: intraday
    NOTIFICATION = "notification"  # camt.054: debit/credit advice, usually no balances


@dataclass(frozen=True, slots=True)
class Charges:
    amount: Decimal
    currency: str
    included: bool = True  # deducted from the entry amount (the usual case for incoming SEPA)
    bearer: str | None = None  # SLEV / DEBT / CRED / SHAR


@dataclass(frozen=True, slots=True)
class FxDetails:
    """Amount as instructed by the payer before conversion (CAMT AmtDtls/InstdAmt)."""

    original_amount: Decimal
    original_currency: str
    rate: Decimal | None = None


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Transaction:
    """One bank transaction; a batch entry with several TxDtls gives several of these."""

    amount: Decimal
    currency: str
    booking_date: dt.date | None
    value_date: dt.date | None
    bank_reference: str | None = None  # AcctSvcrRef / the `//` reference of :61:
    end_to_end_id: str | None = None
    counterparty_name: str | None = None
    counterparty_iban: str | None = None  # also holds a non-IBAN account number
    counterparty_bic: str | None = None
    ultimate_debtor: str | None = None
    creditor_reference: str | None = None  # structured: RF..., QRR, ISR
    remittance_text: str | None = None
    bank_transaction_code: str | None = None
    entry_reference: str | None = None  # the entry's own reference (NtryRef / entry AcctSvcrRef)
    status: EntryStatus = EntryStatus.BOOKED
    return_reason: str | None = None
    charges: Charges | None = None
    fx: FxDetails | None = None
    mandate_reference: str | None = None
    customer_reference: str | None = None  # MT940 :61: customer reference / KREF
    purpose_code: str | None = None
    is_reversal: bool = False
    source_line: str | None = None  # where it was read: "line 12" or an XPath
    # The untouched source text: :61: + :86:, or the entry XML (for one part of a batch entry,
    # the entry with only that part's TxDtls, cut from the bank's text).
    raw: str | None = None
    # Dialect-specific fields with no column of their own (creditor id, GVC code, ...).
    extra: tuple[tuple[str, str], ...] = ()

    @property
    def is_credit(self) -> bool:
        return self.amount > ZERO


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Statement:
    account: str  # IBAN when the bank gave one, else the bank's account number
    currency: str
    statement_id: str | None
    sequence: str | None
    opening_balance: Decimal | None
    closing_balance: Decimal | None
    opening_date: dt.date | None
    closing_date: dt.date | None
    transactions: tuple[Transaction, ...] = ()
    kind: StatementKind = StatementKind.STATEMENT
    account_bic: str | None = None
    account_owner: str | None = None
    created_at: dt.datetime | None = None
    # Control totals the bank declared (CAMT TxsSummry), checked against the entries.
    declared_count: int | None = None
    declared_sum: Decimal | None = None
    source_line: str | None = None


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class ParseResult:
    format: str  # "mt940", "mt942", "camt.053.001.08", ...
    statements: tuple[Statement, ...]
    diagnostics: tuple[Diagnostic, ...] = ()

    @property
    def has_errors(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.diagnostics)
