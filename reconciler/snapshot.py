"""What a matching run reads from the database, once, as domain records.

Rows are read with plain column selects (no ORM identity map) in chunks: a run reads a
million open items, and ORM objects for each would cost minutes and gigabytes.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from reconciler.db.bank import StatementRow, TransactionRow
from reconciler.db.ledger import CustomerIbanRow, CustomerRow, OpenItemRow
from reconciler.db.matching import ProposalRow
from reconciler.db.prepared import Prepared
from reconciler.domain import (
    Customer,
    Diagnostic,
    DocumentType,
    ItemKey,
    ItemStatus,
    OpenItem,
    Payment,
    Severity,
)
from reconciler.learning import active_links
from reconciler.mapping import terms_from_code
from reconciler.money import ZERO

# Lines the engine decides: new ones, ones waiting for review (re-evaluated with what the
# ledger knows now) and ones nothing fitted last time (a new invoice may fit now).
MATCHABLE_STATES = ("unreconciled", "suggested", "unmatched")
# Settled items stay known for this long: a payment quoting one must not be applied elsewhere.
CLOSED_ITEMS_DAYS = 400
CHUNK = 20_000
# Enum members by stored value: a dict lookup per row instead of an enum call (a million rows).
_DOCUMENT_TYPES = {t.value: t for t in DocumentType}
_ITEM_STATUSES = {s.value: s for s in ItemStatus}


@dataclass(slots=True)
class Snapshot:
    customers: list[Customer] = field(default_factory=list)
    items: list[OpenItem] = field(default_factory=list)
    closed_items: list[OpenItem] = field(default_factory=list)
    learned: list[tuple[str, str, str]] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    # transaction id -> item sets a reviewer rejected for it
    rejected: dict[int, set[frozenset[ItemKey]]] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)


def load_snapshot(session: Session) -> Snapshot:
    snapshot = Snapshot()
    snapshot.customers = _customers(session)
    snapshot.items = list(_items(session, open_items=True))
    snapshot.closed_items = list(_items(session, open_items=False))
    snapshot.learned = active_links(session)
    snapshot.payments = _payments(session, snapshot.diagnostics)
    snapshot.rejected = _rejected(session)
    return snapshot


def _customers(session: Session) -> list[Customer]:
    ibans: dict[int, list[str]] = defaultdict(list)
    for customer_pk, iban in session.connection().execute(
            select(CustomerIbanRow.customer_pk, CustomerIbanRow.iban)):
        ibans[customer_pk].append(iban)
    c = CustomerRow
    rows = session.connection().execute(select(
        c.id, c.customer_id, c.name, c.parent_customer_id, c.segment, c.country,
        c.payment_terms, c.email, c.credit_limit, c.currency, c.language).order_by(c.id))
    return [Customer(customer_id=r.customer_id, name=r.name, ibans=tuple(sorted(ibans[r.id])),
                     parent_customer_id=r.parent_customer_id, segment=r.segment,
                     country=r.country, payment_terms=terms_from_code(r.payment_terms),
                     email=r.email, credit_limit=r.credit_limit, currency=r.currency,
                     language=r.language) for r in rows]


_ITEM_COLUMNS = (OpenItemRow.entity, OpenItemRow.document_number, OpenItemRow.document_type,
                 OpenItemRow.customer_id, OpenItemRow.currency, OpenItemRow.amount,
                 OpenItemRow.open_amount, OpenItemRow.issue_date, OpenItemRow.due_date,
                 OpenItemRow.payment_reference, OpenItemRow.discount_rate,
                 OpenItemRow.discount_due_date, OpenItemRow.status)
# Nearly every row of the table is open: read it in one pass in id order. (Comparing
# `status || ''` keeps SQLite from going through the status index, which would then sort a
# million rows back into id order.)
_OPEN_ITEMS = Prepared(select(*_ITEM_COLUMNS).where(
    OpenItemRow.status.concat("") == "open", OpenItemRow.open_amount != ZERO)
    .order_by(OpenItemRow.id))
_CLOSED_ITEMS = Prepared(select(*_ITEM_COLUMNS).where(
    or_(OpenItemRow.status == "closed", OpenItemRow.status == "disputed"),
    OpenItemRow.updated_at >= bindparam("since"))
    .order_by(OpenItemRow.id))


def _items(session: Session, *, open_items: bool) -> list[OpenItem]:
    if open_items:
        rows = _OPEN_ITEMS.stream(session, chunk=CHUNK)
    else:
        since = dt.datetime.now(dt.UTC) - dt.timedelta(days=CLOSED_ITEMS_DAYS)
        rows = _CLOSED_ITEMS.stream(session, {"since": since}, chunk=CHUNK)
    found: list[OpenItem] = []
    types, statuses = _DOCUMENT_TYPES, _ITEM_STATUSES
    append = found.append
    for (entity, document_number, document_type, customer_id, currency, amount, open_amount,
         issue_date, due_date, payment_reference, discount_rate, discount_due_date,
         status) in rows:
        append(OpenItem(
            entity=entity, document_number=document_number,
            document_type=types.get(document_type) or DocumentType(document_type),
            customer_id=customer_id, currency=currency, amount=amount,
            open_amount=open_amount, issue_date=issue_date, due_date=due_date,
            payment_reference=payment_reference, discount_rate=discount_rate,
            discount_due_date=discount_due_date,
            status=statuses.get(status) or ItemStatus(status)))
    return found


def _payments(session: Session, diagnostics: list[Diagnostic]) -> list[Payment]:
    t = TransactionRow
    query = (select(t.id, t.amount, t.currency, t.value_date, t.booking_date, t.bank_reference,
                    t.counterparty_name, t.counterparty_iban, t.creditor_reference,
                    t.remittance_text, t.end_to_end_id, t.ultimate_debtor, t.account,
                    StatementRow.closing_date)
             .join(StatementRow, StatementRow.id == t.statement_id)
             .where(t.state.in_(MATCHABLE_STATES), t.amount > ZERO, t.entry_status == "booked",
                    t.is_reversal.is_(False))
             .order_by(t.id).execution_options(yield_per=CHUNK))
    payments: list[Payment] = []
    for r in session.connection().execute(query):
        paid_on = r.value_date or r.booking_date or r.closing_date
        if paid_on is None:
            diagnostics.append(Diagnostic(Severity.WARNING, "no value, booking or statement "
                                          "date: cannot be matched", where=f"payment {r.id}",
                                          code="undated-payment"))
            continue
        payments.append(Payment(
            id=r.id, amount=r.amount, currency=r.currency, value_date=paid_on,
            bank_reference=r.bank_reference, counterparty_name=r.counterparty_name,
            counterparty_iban=r.counterparty_iban, creditor_reference=r.creditor_reference,
            remittance_text=r.remittance_text, end_to_end_id=r.end_to_end_id,
            ultimate_debtor=r.ultimate_debtor, account=r.account))
    return payments


def _rejected(session: Session) -> dict[int, set[frozenset[ItemKey]]]:
    found: dict[int, set[frozenset[ItemKey]]] = defaultdict(set)
    rows = session.execute(select(ProposalRow.transaction_id, ProposalRow.allocations)
                           .where(ProposalRow.state == "rejected"))
    for transaction_id, allocations in rows:
        found[transaction_id].add(frozenset(ItemKey(a["entity"], a["document_number"])
                                            for a in allocations))
    return dict(found)
