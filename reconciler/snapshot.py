"""What a matching run reads from the database, once, as domain records.

Rows are read with plain column selects (no ORM identity map) in chunks: a run reads a
million open items, and ORM objects for each would cost minutes and gigabytes.
"""

from __future__ import annotations

import datetime as dt
import typing
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from sqlalchemy import Dialect, TypeDecorator, bindparam, or_, select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from reconciler.db.bank import StatementRow, TransactionRow, state_in
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
from reconciler.heap import collector_paused
from reconciler.learning import active_links
from reconciler.mapping import terms_from_code
from reconciler.money import ZERO

# Lines the engine decides: new ones, ones waiting for review (re-evaluated with what the
# ledger knows now) and ones nothing fitted last time (a new invoice may fit now).
MATCHABLE_STATES = ("unreconciled", "suggested", "unmatched")
# Settled items stay known for this long: a payment quoting one must not be applied elsewhere.
CLOSED_ITEMS_DAYS = 400
CHUNK = 20_000


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
    with collector_paused():
        snapshot.customers = _customers(session)
        snapshot.items = _items(session, open_items=True)
        snapshot.closed_items = _items(session, open_items=False)
        snapshot.learned = active_links(session)
        snapshot.payments = _payments(session, snapshot.diagnostics)
        snapshot.rejected = _rejected(session)
    return snapshot


def _customers(session: Session) -> list[Customer]:
    connection = session.connection()
    ibans: dict[int, list[str]] = defaultdict(list)
    for customer_pk, iban in connection.execute(
            select(CustomerIbanRow.customer_pk, CustomerIbanRow.iban)):
        ibans[customer_pk].append(iban)
    c = CustomerRow
    rows = connection.execute(select(
        c.id, c.customer_id, c.name, c.parent_customer_id, c.segment, c.country,
        c.payment_terms, c.email, _raw(c.credit_limit), c.currency, c.language).order_by(c.id))
    money = _Interned(_reader(c.credit_limit, connection.dialect))
    terms, texts = _Interned(terms_from_code), _Interned()  # codes, segments, countries, ...
    no_ibans: list[str] = []
    return [Customer(customer_id, name, tuple(sorted(ibans.get(pk, no_ibans))), parent,
                     texts[segment], texts[country], terms[payment_terms], email,
                     money[credit_limit], texts[currency], texts[language])
            for (pk, customer_id, name, parent, segment, country, payment_terms, email,
                 credit_limit, currency, language) in rows]


def _raw(column: Any) -> Any:
    """The column as the driver gives it (see `_Interned`): no conversion per row."""
    return type_coerce(column, NullType()).label(column.key)


_ITEM_COLUMNS = (OpenItemRow.entity, OpenItemRow.document_number, OpenItemRow.document_type,
                 OpenItemRow.customer_id, OpenItemRow.currency, OpenItemRow.amount,
                 OpenItemRow.open_amount, OpenItemRow.issue_date, OpenItemRow.due_date,
                 OpenItemRow.payment_reference, OpenItemRow.discount_rate,
                 OpenItemRow.discount_due_date, OpenItemRow.status)
# The driver's values as they come (see `_Interned`): the columns' types convert them once per
# distinct value below, not once per row.
_RAW_ITEM_COLUMNS = tuple(_raw(c) for c in _ITEM_COLUMNS)
# Nearly every row of the table is open: read it in one pass in id order. (Comparing
# `status || ''` keeps SQLite from going through the status index or the index of open items
# by open amount, whose condition `status = 'open'` the plain comparison would meet: either
# would then sort a million rows back into id order.)
_OPEN_ITEMS = Prepared(select(*_RAW_ITEM_COLUMNS).where(
    OpenItemRow.status.concat("") == "open", OpenItemRow.open_amount != ZERO)
    .order_by(OpenItemRow.id))
_CLOSED_ITEMS = Prepared(select(*_RAW_ITEM_COLUMNS).where(
    or_(OpenItemRow.status == "closed", OpenItemRow.status == "disputed"),
    OpenItemRow.updated_at >= bindparam("since"))
    .order_by(OpenItemRow.id))


class _Interned(dict[Any, Any]):
    """Raw driver value -> domain value, converted once per distinct value and then shared.

    A million items have a few hundred distinct dates, a hundred thousand customer ids, a few
    currencies and entities, and an open amount equal to the amount: one object for each
    value instead of one per row and column. That is most of the snapshot's memory (which the
    forked match workers would otherwise copy page by page) and most of its reading time.
    Equal raw values convert to equal domain values with the same exponent, so sharing one
    Decimal between rows changes nothing a matcher or an export could see.
    """

    __slots__ = ("_convert",)

    def __init__(self, convert: Callable[[Any], Any] | None = None) -> None:
        super().__init__()
        self._convert = convert

    def __missing__(self, raw: Any) -> Any:
        value = raw if raw is None or self._convert is None else self._convert(raw)
        self[raw] = value
        return value


def _reader(column: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    """What the column's type does to a raw driver value (None: nothing)."""
    kind = column.type
    if isinstance(kind, TypeDecorator):  # Money, Rate: their impls pass the driver's value on
        return partial(kind.process_result_value, dialect=dialect)
    return typing.cast(Callable[[Any], Any] | None,
                       kind.dialect_impl(dialect).result_processor(dialect, None))


def _items(session: Session, *, open_items: bool) -> list[OpenItem]:
    if open_items:
        rows = _OPEN_ITEMS.stream(session, chunk=CHUNK)
    else:
        since = dt.datetime.now(dt.UTC) - dt.timedelta(days=CLOSED_ITEMS_DAYS)
        rows = _CLOSED_ITEMS.stream(session, {"since": since}, chunk=CHUNK)
    dialect = session.get_bind().dialect
    money = _Interned(_reader(OpenItemRow.amount, dialect))
    rates = _Interned(_reader(OpenItemRow.discount_rate, dialect))
    dates = _Interned(_reader(OpenItemRow.due_date, dialect))
    texts = _Interned()  # entities, customer ids, currencies
    types, statuses = _Interned(DocumentType), _Interned(ItemStatus)
    found: list[OpenItem] = []
    append = found.append
    for (entity, document_number, document_type, customer_id, currency, amount, open_amount,
         issue_date, due_date, payment_reference, discount_rate, discount_due_date,
         status) in rows:
        append(OpenItem(
            texts[entity], document_number, types[document_type], texts[customer_id],
            texts[currency], money[amount], money[open_amount], dates[issue_date],
            dates[due_date], payment_reference, rates[discount_rate], dates[discount_due_date],
            statuses[status]))
    return found


def _payments(session: Session, diagnostics: list[Diagnostic]) -> list[Payment]:
    t = TransactionRow
    query = (select(t.id, _raw(t.amount), t.currency, _raw(t.value_date), _raw(t.booking_date),
                    t.bank_reference, t.counterparty_name, t.counterparty_iban,
                    t.creditor_reference, t.remittance_text, t.end_to_end_id,
                    t.ultimate_debtor, t.account, _raw(StatementRow.closing_date))
             .join(StatementRow, StatementRow.id == t.statement_id)
             .where(state_in(MATCHABLE_STATES), t.amount > ZERO, t.entry_status == "booked",
                    t.is_reversal.is_(False))
             .order_by(t.id))
    connection = session.connection()
    money = _Interned(_reader(t.amount, connection.dialect))
    dates = _Interned(_reader(t.value_date, connection.dialect))
    texts = _Interned()  # currencies, our accounts
    payments: list[Payment] = []
    for (transaction_id, amount, currency, value_date, booking_date, bank_reference,
         counterparty_name, counterparty_iban, creditor_reference, remittance_text,
         end_to_end_id, ultimate_debtor, account, closing_date) in connection.execute(query):
        paid_on = dates[value_date] or dates[booking_date] or dates[closing_date]
        if paid_on is None:
            diagnostics.append(Diagnostic(Severity.WARNING, "no value, booking or statement "
                                          "date: cannot be matched",
                                          where=f"payment {transaction_id}",
                                          code="undated-payment"))
            continue
        payments.append(Payment(
            transaction_id, money[amount], texts[currency], paid_on, bank_reference,
            counterparty_name, counterparty_iban, creditor_reference, remittance_text,
            end_to_end_id, ultimate_debtor, texts[account]))
    return payments


def _rejected(session: Session) -> dict[int, set[frozenset[ItemKey]]]:
    found: dict[int, set[frozenset[ItemKey]]] = defaultdict(set)
    rows = session.execute(select(ProposalRow.transaction_id, ProposalRow.allocations)
                           .where(ProposalRow.state == "rejected"))
    for transaction_id, allocations in rows:
        found[transaction_id].add(frozenset(ItemKey(a["entity"], a["document_number"])
                                            for a in allocations))
    return dict(found)
