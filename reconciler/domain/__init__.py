"""The domain model: immutable records with exact money.

Everything that crosses a layer boundary is one of these frozen dataclasses: parsers return
`Statement`s, matchers read `OpenItem`s and `Customer`s and return `Proposal`s, services turn
accepted proposals into `Application`s. ORM classes never leave `reconciler.db`.

Sign conventions: a bank amount is signed from the account holder's view, credit (money in)
positive, debit negative. An open item's amount is what the customer owes: invoices positive,
credit notes negative.
"""

from reconciler.domain.bank import (
    Charges,
    EntryStatus,
    FxDetails,
    ParseResult,
    Statement,
    StatementKind,
    Transaction,
)
from reconciler.domain.common import Diagnostic, Severity
from reconciler.domain.ledger import (
    Customer,
    DocumentType,
    ItemKey,
    ItemStatus,
    OpenItem,
    PaymentTerms,
)
from reconciler.domain.matching import (
    Adjustment,
    AdjustmentKind,
    Allocation,
    Application,
    Decision,
    Evidence,
    JournalEntry,
    Payment,
    Proposal,
)

__all__ = [
    "Adjustment", "AdjustmentKind", "Allocation", "Application", "Charges", "Customer",
    "Decision", "Diagnostic", "DocumentType", "EntryStatus", "Evidence", "FxDetails", "ItemKey",
    "ItemStatus", "JournalEntry", "OpenItem", "ParseResult", "Payment", "PaymentTerms",
    "Proposal", "Severity", "Statement", "StatementKind", "Transaction",
]
