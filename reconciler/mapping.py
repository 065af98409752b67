"""ORM rows <-> domain records, for the ledger (customers, open items) and bank transactions.

Services read rows and hand domain records to matchers, rules and the web layer; nothing
outside `reconciler` sees an ORM object. Bank fields without a column of their own are kept
in `transactions.details` (JSON, amounts as exact decimal strings) and come back from there.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from reconciler.db.bank import TransactionRow
from reconciler.db.ledger import CustomerRow, OpenItemRow
from reconciler.domain import (
    Charges,
    Customer,
    DocumentType,
    EntryStatus,
    FxDetails,
    ItemStatus,
    OpenItem,
    Payment,
    PaymentTerms,
    Transaction,
)
from reconciler.masterdata.fields import FieldError, parse_payment_terms
from reconciler.money import money

# Key in `transactions.details` that marks a bank_reference derived here, not given by the bank.
DERIVED_REFERENCE = "bank_reference_derived"


def terms_from_code(code: str | None) -> PaymentTerms | None:
    if not code:
        return None
    try:
        return parse_payment_terms(code)
    except FieldError:
        return None  # stored before validation existed; treated as no terms


def customer_from_row(row: CustomerRow, ibans: Iterable[str] | None = None) -> Customer:
    """`ibans` avoids loading the relationship row by row when the caller has them already."""
    found = tuple(sorted(ibans)) if ibans is not None else tuple(i.iban for i in row.ibans)
    return Customer(customer_id=row.customer_id, name=row.name, ibans=found,
                    parent_customer_id=row.parent_customer_id, segment=row.segment,
                    country=row.country, payment_terms=terms_from_code(row.payment_terms),
                    email=row.email, credit_limit=row.credit_limit, currency=row.currency,
                    language=row.language)


def item_from_row(row: OpenItemRow) -> OpenItem:
    return OpenItem(entity=row.entity, document_number=row.document_number,
                    document_type=DocumentType(row.document_type), customer_id=row.customer_id,
                    currency=row.currency, amount=row.amount, open_amount=row.open_amount,
                    issue_date=row.issue_date, due_date=row.due_date,
                    payment_reference=row.payment_reference, discount_rate=row.discount_rate,
                    discount_due_date=row.discount_due_date, status=ItemStatus(row.status))


def payment_from_row(row: TransactionRow) -> Payment:
    """What a matcher sees of a stored credit. The value date decides discounts and lateness;
    where the bank gave only a booking date, that stands in for it."""
    value_date = row.value_date or row.booking_date
    if value_date is None:
        value_date = row.statement.closing_date or row.statement.imported_at.date()
    return Payment(id=row.id, amount=row.amount, currency=row.currency, value_date=value_date,
                   bank_reference=row.bank_reference, counterparty_name=row.counterparty_name,
                   counterparty_iban=row.counterparty_iban,
                   creditor_reference=row.creditor_reference,
                   remittance_text=row.remittance_text, end_to_end_id=row.end_to_end_id,
                   ultimate_debtor=row.ultimate_debtor, account=row.account)


def transaction_details(tx: Transaction, *, derived_reference: bool) -> dict[str, object]:
    """The fields of `tx` that have no column, JSON-ready (amounts as decimal strings)."""
    details: dict[str, object] = {DERIVED_REFERENCE: derived_reference}
    for name in ("mandate_reference", "customer_reference", "purpose_code", "source_line"):
        value = getattr(tx, name)
        if value is not None:
            details[name] = value
    if tx.charges is not None:
        details["charges"] = {"amount": f"{tx.charges.amount:f}", "currency": tx.charges.currency,
                              "included": tx.charges.included, "bearer": tx.charges.bearer}
    if tx.fx is not None:
        details["fx"] = {"original_amount": f"{tx.fx.original_amount:f}",
                         "original_currency": tx.fx.original_currency,
                         "rate": None if tx.fx.rate is None else f"{tx.fx.rate:f}"}
    if tx.extra:
        details["extra"] = [list(pair) for pair in tx.extra]
    return details


def transaction_from_row(row: TransactionRow) -> Transaction:
    """The bank transaction as parsed (bank_reference as stored, derived or not)."""
    details: dict[str, Any] = dict(row.details or {})
    charges = None
    if isinstance(details.get("charges"), dict):
        c = details["charges"]
        charges = Charges(amount=money(c["amount"]), currency=c["currency"],
                          included=bool(c.get("included", True)), bearer=c.get("bearer"))
    fx = None
    if isinstance(details.get("fx"), dict):
        f = details["fx"]
        fx = FxDetails(original_amount=money(f["original_amount"]),
                       original_currency=f["original_currency"],
                       rate=None if f.get("rate") is None else money(f["rate"]))
    extra = tuple((str(k), str(v)) for k, v in details.get("extra", []))
    return Transaction(
        amount=row.amount, currency=row.currency, booking_date=row.booking_date,
        value_date=row.value_date, bank_reference=row.bank_reference,
        end_to_end_id=row.end_to_end_id, counterparty_name=row.counterparty_name,
        counterparty_iban=row.counterparty_iban, counterparty_bic=row.counterparty_bic,
        ultimate_debtor=row.ultimate_debtor, creditor_reference=row.creditor_reference,
        remittance_text=row.remittance_text, bank_transaction_code=row.bank_transaction_code,
        entry_reference=row.entry_reference, status=EntryStatus(row.entry_status),
        return_reason=row.return_reason, charges=charges, fx=fx,
        mandate_reference=details.get("mandate_reference"),
        customer_reference=details.get("customer_reference"),
        purpose_code=details.get("purpose_code"), is_reversal=row.is_reversal,
        source_line=details.get("source_line"), raw=row.raw, extra=extra)


def is_derived_reference(row: TransactionRow) -> bool:
    return bool((row.details or {}).get(DERIVED_REFERENCE))


def charges_amount(tx: Transaction) -> Decimal | None:
    return None if tx.charges is None else tx.charges.amount


__all__ = ["DERIVED_REFERENCE", "charges_amount", "customer_from_row", "is_derived_reference",
           "item_from_row", "payment_from_row", "terms_from_code", "transaction_details",
           "transaction_from_row"]

