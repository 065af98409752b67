"""A generated bank transaction as the bank files show it, and the draft that carries its
truth until the bank reference is known."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from reconciler.demo.identifiers import iban_from_bban
from reconciler.money import ZERO

CREDIT_TRANSFER = "PMNT/RCDT/ESCT"  # ISO bank transaction code: received SEPA credit transfer
OUTGOING_TRANSFER = "PMNT/ICDT/ESCT"
BOOK_TRANSFER = "PMNT/RCDT/BOOK"  # intra-bank transfer, as cash pooling within a group
INTEREST_CODE = "ACMT/MCOP/INTR"
FEE_CODE = "ACMT/MDOP/CHRG"
LOAN_CODE = "LDAS/FTLN/DDWN"
# German tax offices bank with the Bundesbank (bank code 700 000 00 for Munich).
TAX_OFFICE_IBAN = iban_from_bban("DE", "700000000070001506")


@dataclass(frozen=True, slots=True)
class GeneratedPayment:
    """One bank transaction as the bank files will show it, plus what it is (`scenario`)."""

    bank_reference: str
    booking_date: dt.date
    value_date: dt.date
    amount: Decimal  # signed: credit positive
    currency: str
    scenario: str
    counterparty_name: str | None
    counterparty_iban: str | None
    counterparty_bic: str | None
    end_to_end_id: str | None
    creditor_reference: str | None  # structured RF reference (CAMT Strd), None when free text
    remittance_text: str | None
    bank_transaction_code: str
    customer_id: str | None = None  # whose items it settles (truth, not on the file)
    entry_id: str | None = None  # shared by the transactions of one batch entry
    instructed_amount: Decimal | None = None  # before the charges an intermediary took
    charges: Decimal | None = None


@dataclass
class Draft:
    """A transaction being built, with what it truly settles (see `truth.TruthRow`)."""

    payment: GeneratedPayment
    settled: tuple[tuple[str, Decimal], ...] = ()
    discount: Decimal = ZERO
    bank_charge: Decimal = ZERO
    short: Decimal = ZERO
    unapplied: Decimal = ZERO
    expected: str = "auto"
    noise: tuple[str, ...] = ()
