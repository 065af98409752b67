"""ParseResult -> the `recon parse` JSON contract (DESIGN.md).

The contract's fields come first, in its order; further fields follow them. Amounts are
strings holding the exact decimal, signed (credit positive); missing fields are null.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from reconciler.domain.bank import Charges, FxDetails, ParseResult, Statement, Transaction
from reconciler.domain.common import Diagnostic


def result_to_dict(result: ParseResult) -> dict[str, Any]:
    return {
        "format": result.format,
        "statements": [statement_to_dict(s) for s in result.statements],
        "diagnostics": [diagnostic_to_dict(d) for d in result.diagnostics],
    }


def statement_to_dict(statement: Statement) -> dict[str, Any]:
    return {
        "account": statement.account or None,
        "currency": statement.currency or None,
        "statement_id": statement.statement_id,
        "sequence": statement.sequence,
        "opening_balance": _amount(statement.opening_balance),
        "closing_balance": _amount(statement.closing_balance),
        "opening_date": _date(statement.opening_date),
        "closing_date": _date(statement.closing_date),
        "transactions": [transaction_to_dict(t) for t in statement.transactions],
        # Beyond the contract:
        "kind": statement.kind.value,
        "account_bic": statement.account_bic,
        "account_owner": statement.account_owner,
        "created_at": _date(statement.created_at),
        "declared_count": statement.declared_count,
        "declared_sum": _amount(statement.declared_sum),
        "source_line": statement.source_line,
    }


def transaction_to_dict(t: Transaction) -> dict[str, Any]:
    return {
        "amount": _amount(t.amount),
        "currency": t.currency,
        "booking_date": _date(t.booking_date),
        "value_date": _date(t.value_date),
        "bank_reference": t.bank_reference,
        "end_to_end_id": t.end_to_end_id,
        "counterparty_name": t.counterparty_name,
        "counterparty_iban": t.counterparty_iban,
        "counterparty_bic": t.counterparty_bic,
        "creditor_reference": t.creditor_reference,
        "remittance_text": t.remittance_text,
        "bank_transaction_code": t.bank_transaction_code,
        "entry_reference": t.entry_reference,
        "status": t.status.value,
        "return_reason": t.return_reason,
        "charges": _charges(t.charges),
        # Beyond the contract:
        "ultimate_debtor": t.ultimate_debtor,
        "fx": _fx(t.fx),
        "mandate_reference": t.mandate_reference,
        "customer_reference": t.customer_reference,
        "purpose_code": t.purpose_code,
        "is_reversal": t.is_reversal,
        "source_line": t.source_line,
        "extra": dict(t.extra),
    }


def diagnostic_to_dict(d: Diagnostic) -> dict[str, Any]:
    return {"severity": d.severity.value, "message": d.message, "where": d.where,
            "code": d.code}


def _amount(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:f}"


def _date(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _charges(charges: Charges | None) -> dict[str, Any] | None:
    if charges is None:
        return None
    return {"amount": _amount(charges.amount), "currency": charges.currency,
            "included": charges.included, "bearer": charges.bearer}


def _fx(fx: FxDetails | None) -> dict[str, Any] | None:
    if fx is None:
        return None
    return {"original_amount": _amount(fx.original_amount),
            "original_currency": fx.original_currency, "rate": _amount(fx.rate)}
