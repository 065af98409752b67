"""Detail pages: bank transactions, customers, open items, applications, statements."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from reconciler.db.bank import BankFileRow, StatementRow, TransactionRow, state_in
from reconciler.db.journal import JournalRow
from reconciler.db.ledger import CustomerIbanRow, CustomerRow, OpenItemRow
from reconciler.db.matching import (
    ApplicationLineRow,
    ApplicationRow,
    LearnedEvidenceRow,
    ProposalRow,
)
from reconciler.errors import InputError, NotFoundError
from reconciler.money import ZERO, money
from web.queries.queue import ProposalView, _customer_names, _items_for, proposal_view

AGING_BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")
SEARCH_LIMIT = 50


def aging_bucket(due: dt.date, as_of: dt.date) -> str:
    days = (as_of - due).days
    if days <= 0:
        return "current"
    if days <= 30:
        return "1-30"
    if days <= 60:
        return "31-60"
    if days <= 90:
        return "61-90"
    return "90+"


def journal_for(session: Session, subjects: list[str], limit: int = 200) -> list[JournalRow]:
    return list(session.scalars(select(JournalRow).where(JournalRow.subject.in_(subjects))
                                .order_by(JournalRow.seq.desc()).limit(limit)))


def transaction_subjects(tx_id: int) -> list[str]:
    return [f"payment:{tx_id}", f"transaction:{tx_id}"]


@dataclass(frozen=True, slots=True)
class TransactionDetail:
    row: TransactionRow
    statement: StatementRow | None
    file: BankFileRow | None
    proposals: tuple[ProposalView, ...]
    applications: tuple[ApplicationRow, ...]
    history: tuple[JournalRow, ...]
    items: dict[int, OpenItemRow]


def transaction_detail(session: Session, tx_id: int) -> TransactionDetail:
    row = session.get(TransactionRow, tx_id)
    if row is None:
        raise NotFoundError(f"no bank transaction {tx_id}")
    statement = session.get(StatementRow, row.statement_id)
    file = session.get(BankFileRow, statement.file_id) if statement else None
    proposals = list(session.scalars(select(ProposalRow).where(ProposalRow.transaction_id == tx_id)
                                     .order_by(ProposalRow.run_id.desc(), ProposalRow.rank)))
    items = _items_for(session, proposals)
    names = _customer_names(session, {p.customer_id for p in proposals})
    applications = list(session.scalars(
        select(ApplicationRow).where(ApplicationRow.transaction_id == tx_id)
        .order_by(ApplicationRow.id)))
    subjects = transaction_subjects(tx_id) + [f"application:{a.id}" for a in applications]
    subjects += [f"proposal:{p.id}" for p in proposals]
    item_ids = {line.item_id for a in applications for line in a.lines if line.item_id}
    line_items = {i.id: i for i in session.scalars(
        select(OpenItemRow).where(OpenItemRow.id.in_(item_ids)))} if item_ids else {}
    return TransactionDetail(
        row=row, statement=statement, file=file,
        proposals=tuple(proposal_view(p, items, names) for p in proposals),
        applications=tuple(applications), history=tuple(journal_for(session, subjects)),
        items=line_items)


def parsed_fields(row: TransactionRow) -> list[tuple[str, Any]]:
    """Every parsed field of a transaction, in a stable order, for the detail page."""
    names = ["id", "account", "amount", "currency", "booking_date", "value_date",
             "bank_reference", "end_to_end_id", "entry_reference", "counterparty_name",
             "counterparty_iban", "counterparty_bic", "ultimate_debtor", "creditor_reference",
             "remittance_text", "bank_transaction_code", "entry_status", "return_reason",
             "charges_amount", "is_reversal", "state", "linked_to_id"]
    fields: list[tuple[str, Any]] = [(n, getattr(row, n)) for n in names]
    fields += [(f"details.{k}", v) for k, v in sorted((row.details or {}).items())]
    return fields


@dataclass(frozen=True, slots=True)
class ItemAged:
    item: OpenItemRow
    bucket: str
    days_overdue: int


@dataclass(frozen=True, slots=True)
class CustomerDetail:
    row: CustomerRow
    ibans: tuple[str, ...]
    open_items: tuple[ItemAged, ...]
    aging: dict[str, Decimal]
    applications: tuple[ApplicationRow, ...]
    payments: tuple[TransactionRow, ...]
    evidence: tuple[LearnedEvidenceRow, ...]
    dunning_stage: str | None


def customer_detail(session: Session, customer_id: str, as_of: dt.date) -> CustomerDetail:
    row = session.scalar(select(CustomerRow).where(CustomerRow.customer_id == customer_id))
    if row is None:
        raise NotFoundError(f"no customer {customer_id!r}")
    ibans = tuple(session.scalars(select(CustomerIbanRow.iban)
                                  .where(CustomerIbanRow.customer_pk == row.id)))
    items = session.scalars(select(OpenItemRow).where(
        OpenItemRow.customer_id == customer_id, OpenItemRow.status != "closed",
        OpenItemRow.open_amount != ZERO).order_by(OpenItemRow.due_date))
    aged = tuple(ItemAged(i, aging_bucket(i.due_date, as_of), max(0, (as_of - i.due_date).days))
                 for i in items)
    aging = {bucket: ZERO for bucket in AGING_BUCKETS}
    for entry in aged:
        aging[entry.bucket] += entry.item.open_amount
    applications = tuple(session.scalars(
        select(ApplicationRow).where(ApplicationRow.customer_id == customer_id)
        .order_by(ApplicationRow.id.desc()).limit(100)))
    tx_ids = {a.transaction_id for a in applications}
    payments = tuple(session.scalars(select(TransactionRow).where(TransactionRow.id.in_(tx_ids))
                                     .order_by(TransactionRow.id.desc()))) if tx_ids else ()
    evidence = tuple(session.scalars(
        select(LearnedEvidenceRow).where(LearnedEvidenceRow.customer_id == customer_id,
                                         LearnedEvidenceRow.active.is_(True))
        .order_by(LearnedEvidenceRow.id)))
    return CustomerDetail(row=row, ibans=ibans, open_items=aged, aging=aging,
                          applications=applications, payments=payments, evidence=evidence,
                          dunning_stage=_dunning_stage(session, customer_id))


def _dunning_stage(session: Session, customer_id: str) -> str | None:
    """The furthest dunning stage among the customer's open items, as the daily run left it."""
    from reconciler.db.collections import ItemDunningRow

    found = session.execute(
        select(ItemDunningRow.stage, ItemDunningRow.level)
        .join(OpenItemRow, OpenItemRow.id == ItemDunningRow.item_id)
        .where(OpenItemRow.customer_id == customer_id, OpenItemRow.status != "closed",
               ItemDunningRow.level > 0)
        .order_by(ItemDunningRow.level.desc()).limit(1)).first()
    if found is None:
        return None
    stage, level = found
    return f"{stage or 'level'} (level {level})"


@dataclass(frozen=True, slots=True)
class ItemDetail:
    row: OpenItemRow
    lines: tuple[tuple[ApplicationLineRow, ApplicationRow], ...]
    history: tuple[JournalRow, ...]


def item_detail(session: Session, item_id: int) -> ItemDetail:
    row = session.get(OpenItemRow, item_id)
    if row is None:
        raise NotFoundError(f"no open item {item_id}")
    lines = tuple((line, application) for line, application in session.execute(
        select(ApplicationLineRow, ApplicationRow)
        .join(ApplicationRow, ApplicationRow.id == ApplicationLineRow.application_id)
        .where(ApplicationLineRow.item_id == item_id).order_by(ApplicationLineRow.id)))
    subjects = [f"item:{row.entity}/{row.document_number}", f"item:{row.id}",
                f"open_item:{row.entity}/{row.document_number}"]
    subjects += [f"application:{a.id}" for _, a in lines]
    return ItemDetail(row=row, lines=lines, history=tuple(journal_for(session, subjects)))


def application_detail(session: Session, application_id: int
                       ) -> tuple[ApplicationRow, dict[int, OpenItemRow], list[JournalRow]]:
    row = session.get(ApplicationRow, application_id)
    if row is None:
        raise NotFoundError(f"no application {application_id}")
    ids = {line.item_id for line in row.lines if line.item_id}
    items = {i.id: i for i in session.scalars(select(OpenItemRow).where(OpenItemRow.id.in_(ids)))}
    subjects = [f"application:{application_id}"]
    if row.reversed_by_id:
        subjects.append(f"application:{row.reversed_by_id}")
    return row, items, journal_for(session, subjects)


@dataclass(frozen=True, slots=True)
class StatementLine:
    statement: StatementRow
    file: BankFileRow
    transactions: int


def list_statements(session: Session, limit: int = 200) -> list[StatementLine]:
    counts = (select(TransactionRow.statement_id, func.count().label("n"))
              .group_by(TransactionRow.statement_id).subquery())
    rows = session.execute(
        select(StatementRow, BankFileRow, func.coalesce(counts.c.n, 0))
        .join(BankFileRow, BankFileRow.id == StatementRow.file_id)
        .outerjoin(counts, counts.c.statement_id == StatementRow.id)
        .order_by(StatementRow.id.desc()).limit(limit))
    return [StatementLine(s, f, int(n)) for s, f, n in rows]


def list_files(session: Session, limit: int = 100) -> list[BankFileRow]:
    return list(session.scalars(select(BankFileRow).order_by(BankFileRow.id.desc()).limit(limit)))


# --- searches for the exception queue --------------------------------------------------------


def _amount(text: str, name: str) -> Decimal | None:
    text = text.strip()
    if not text:
        return None
    try:
        return money(text)
    except InputError:
        raise InputError(f"{name}: not an amount: {text!r}") from None


def _date(text: str, name: str) -> dt.date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{name}: not an ISO date (YYYY-MM-DD): {text!r}") from None


def search_open_items(session: Session, args: dict[str, str],
                      limit: int = SEARCH_LIMIT) -> list[OpenItemRow]:
    """Open items by customer (id or name), amount, reference and due-date range."""
    stmt = select(OpenItemRow).where(OpenItemRow.status == "open",
                                     OpenItemRow.open_amount != ZERO)
    customer = (args.get("customer") or "").strip()
    if customer:
        names = select(CustomerRow.customer_id).where(
            func.lower(CustomerRow.name).contains(customer.lower()))
        stmt = stmt.where(or_(OpenItemRow.customer_id == customer,
                              OpenItemRow.customer_id.in_(names)))
    amount = _amount(args.get("amount", ""), "amount")
    if amount is not None:
        stmt = stmt.where(or_(OpenItemRow.open_amount == amount, OpenItemRow.amount == amount))
    reference = (args.get("reference") or "").strip()
    if reference:
        stmt = stmt.where(or_(OpenItemRow.document_number.contains(reference),
                              OpenItemRow.payment_reference.contains(reference)))
    due_from = _date(args.get("due_from", ""), "due_from")
    due_to = _date(args.get("due_to", ""), "due_to")
    if due_from:
        stmt = stmt.where(OpenItemRow.due_date >= due_from)
    if due_to:
        stmt = stmt.where(OpenItemRow.due_date <= due_to)
    return list(session.scalars(stmt.order_by(OpenItemRow.due_date, OpenItemRow.id).limit(limit)))


EXCEPTION_STATES = ("unmatched", "unreconciled")


def search_exceptions(session: Session, args: dict[str, str], after: int | None = None,
                      limit: int = SEARCH_LIMIT) -> list[TransactionRow]:
    """Credit lines nobody could match, newest first; text looks at payer and references."""
    stmt = select(TransactionRow).where(state_in(EXCEPTION_STATES),
                                        TransactionRow.amount > ZERO)
    text = (args.get("q") or "").strip()
    if text:
        like = f"%{text.lower()}%"
        stmt = stmt.where(or_(func.lower(TransactionRow.counterparty_name).like(like),
                              func.lower(TransactionRow.remittance_text).like(like),
                              TransactionRow.bank_reference.contains(text),
                              TransactionRow.creditor_reference.contains(text),
                              TransactionRow.counterparty_iban.contains(text.replace(" ", ""))))
    amount = _amount(args.get("amount", ""), "amount")
    if amount is not None:
        stmt = stmt.where(TransactionRow.amount == amount)
    date_from = _date(args.get("date_from", ""), "date_from")
    date_to = _date(args.get("date_to", ""), "date_to")
    if date_from:
        stmt = stmt.where(TransactionRow.value_date >= date_from)
    if date_to:
        stmt = stmt.where(TransactionRow.value_date <= date_to)
    if after:
        stmt = stmt.where(TransactionRow.id < after)
    return list(session.scalars(stmt.order_by(TransactionRow.id.desc()).limit(limit)))


def search_customers(session: Session, text: str, limit: int = 20) -> list[CustomerRow]:
    text = text.strip()
    if not text:
        return []
    return list(session.scalars(select(CustomerRow).where(or_(
        CustomerRow.customer_id == text,
        func.lower(CustomerRow.name).contains(text.lower()))).order_by(CustomerRow.name)
        .limit(limit)))


def items_by_ids(session: Session, ids: list[int]) -> dict[int, OpenItemRow]:
    if not ids:
        return {}
    return {i.id: i for i in session.scalars(select(OpenItemRow).where(OpenItemRow.id.in_(ids)))}



def candidate_items(session: Session, tx: TransactionRow, limit: int = SEARCH_LIMIT
                    ) -> list[OpenItemRow]:
    """Where a reviewer starts: the open items of the customer paying from this IBAN (ERP
    master data or learned), else items open for exactly this amount."""
    customer_ids: set[str] = set()
    if tx.counterparty_iban:
        customer_ids |= set(session.scalars(
            select(CustomerRow.customer_id).join(CustomerIbanRow,
                                                 CustomerIbanRow.customer_pk == CustomerRow.id)
            .where(CustomerIbanRow.iban == tx.counterparty_iban)))
        customer_ids |= set(session.scalars(
            select(LearnedEvidenceRow.customer_id).where(
                LearnedEvidenceRow.kind == "iban", LearnedEvidenceRow.value == tx.counterparty_iban,
                LearnedEvidenceRow.active.is_(True))))
    stmt = select(OpenItemRow).where(OpenItemRow.status == "open",
                                     OpenItemRow.open_amount != ZERO,
                                     OpenItemRow.currency == tx.currency)
    if customer_ids:
        stmt = stmt.where(OpenItemRow.customer_id.in_(customer_ids))
    else:
        stmt = stmt.where(OpenItemRow.open_amount == tx.amount)
    return list(session.scalars(stmt.order_by(OpenItemRow.due_date, OpenItemRow.id).limit(limit)))
