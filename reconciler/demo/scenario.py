"""The kinds of bank transaction the demo produces, and how often each one occurs.

The mix is tuned to look like a real receivables account: most payments are clean (an RF
reference or the invoice number in the text), then a long tail of the cases that make
reconciliation hard. `noise` scales every hard case; at 0 only the clean ones remain.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping


class Scenario(enum.StrEnum):
    RF_EXACT = "rf_exact"  # one invoice, exact amount, structured RF creditor reference
    DOCUMENT_IN_TEXT = "document_in_text"  # one invoice, its number in the free text, spelled
    MISTYPED_REFERENCE = "mistyped_reference"  # one digit changed or two swapped
    NO_REFERENCE = "no_reference"  # only the payer's name, IBAN and the amount
    SEVERAL_INVOICES = "several_invoices"  # one payment for several invoices, all listed
    SEVERAL_INVOICES_SOME_LISTED = "several_invoices_some_listed"
    CREDIT_NOTE_NETTED = "credit_note_netted"  # invoices minus a credit note
    PARTIAL_PAYMENT = "partial_payment"  # part of one invoice
    BANK_CHARGES = "bank_charges"  # a few euros less: deducted by an intermediary bank
    CASH_DISCOUNT = "cash_discount"  # early-payment discount taken inside its terms
    LATE_DISCOUNT = "late_discount"  # discount taken after the discount date: short payment
    OVERPAYMENT = "overpayment"
    PARENT_PAYS = "parent_pays"  # the group's parent pays a subsidiary's invoice
    DUPLICATE_PAYMENT = "duplicate_payment"  # an invoice paid a second time
    AMOUNT_COLLISION = "amount_collision"  # no reference; another customer owes the same sum
    LOOKALIKE_NUMBERS = "lookalike_numbers"  # order/customer numbers, dates posing as refs
    TAX_REFUND = "tax_refund"  # credits that are not receivables
    INTEREST = "interest"
    INTRA_GROUP = "intra_group"
    LOAN = "loan"
    SUPPLIER_PAYMENT = "supplier_payment"  # debits
    BANK_FEE = "bank_fee"


RECEIVABLE = frozenset({
    Scenario.RF_EXACT, Scenario.DOCUMENT_IN_TEXT, Scenario.MISTYPED_REFERENCE,
    Scenario.NO_REFERENCE, Scenario.SEVERAL_INVOICES, Scenario.SEVERAL_INVOICES_SOME_LISTED,
    Scenario.CREDIT_NOTE_NETTED, Scenario.PARTIAL_PAYMENT, Scenario.BANK_CHARGES,
    Scenario.CASH_DISCOUNT, Scenario.LATE_DISCOUNT, Scenario.OVERPAYMENT, Scenario.PARENT_PAYS,
    Scenario.DUPLICATE_PAYMENT, Scenario.AMOUNT_COLLISION, Scenario.LOOKALIKE_NUMBERS,
})
DEBITS = frozenset({Scenario.SUPPLIER_PAYMENT, Scenario.BANK_FEE})
# Neither scaled by `noise`: clean receipts and the account's ordinary outgoing traffic.
UNSCALED = frozenset({Scenario.RF_EXACT, Scenario.DOCUMENT_IN_TEXT}) | DEBITS

# Shares in percent of all generated transactions.
DEFAULT_MIX: Mapping[Scenario, float] = {
    Scenario.RF_EXACT: 15.0,
    Scenario.DOCUMENT_IN_TEXT: 25.0,
    Scenario.MISTYPED_REFERENCE: 3.5,
    Scenario.NO_REFERENCE: 5.0,
    Scenario.SEVERAL_INVOICES: 6.0,
    Scenario.SEVERAL_INVOICES_SOME_LISTED: 2.5,
    Scenario.CREDIT_NOTE_NETTED: 3.0,
    Scenario.PARTIAL_PAYMENT: 3.0,
    Scenario.BANK_CHARGES: 4.0,
    Scenario.CASH_DISCOUNT: 6.0,
    Scenario.LATE_DISCOUNT: 2.0,
    Scenario.OVERPAYMENT: 2.0,
    Scenario.PARENT_PAYS: 2.0,
    Scenario.DUPLICATE_PAYMENT: 1.2,
    Scenario.AMOUNT_COLLISION: 2.5,
    Scenario.LOOKALIKE_NUMBERS: 3.0,
    Scenario.TAX_REFUND: 0.8,
    Scenario.INTEREST: 0.7,
    Scenario.INTRA_GROUP: 1.2,
    Scenario.LOAN: 0.4,
    Scenario.SUPPLIER_PAYMENT: 9.0,
    Scenario.BANK_FEE: 1.5,
}

# Noise laid over receivable payments whatever their scenario (probabilities, scaled too).
NAME_VARIANT_SHARE = 0.15  # the payer's name differs from the master data
NEW_IBAN_SHARE = 0.05  # paid from an account the master data does not know


def scaled_mix(noise: float, overrides: Mapping[str, float] | None = None) -> dict[Scenario, float]:
    """The scenario weights with every hard case multiplied by `noise`; `overrides` replace
    single weights by scenario name (unknown names are refused)."""
    if noise < 0:
        raise ValueError("noise must be >= 0")
    mix = {s: (w if s in UNSCALED else w * noise) for s, w in DEFAULT_MIX.items()}
    for name, weight in (overrides or {}).items():
        mix[Scenario(name)] = weight
    return mix
