"""The review queue: pending proposals, best first, with keyset pagination.

A transaction's place in the queue is its best pending proposal (lowest rank still pending);
the other pending proposals for it are its alternatives. Paging is by (confidence, id)
descending so that page 2000 of 100,000 suggestions costs the same as page 1.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import Session

from reconciler.db.bank import TransactionRow
from reconciler.db.ledger import CustomerRow, OpenItemRow
from reconciler.db.matching import ProposalRow
from reconciler.errors import InputError, NotFoundError
from reconciler.money import ZERO, money

PAGE_SIZE = 50
COUNT_CAP = 10_000


@dataclass(frozen=True, slots=True)
class QueueFilter:
    matcher: str | None = None
    customer_id: str | None = None
    min_confidence: float | None = None
    max_confidence: float | None = None
    currency: str | None = None

    @classmethod
    def from_args(cls, args: dict[str, str]) -> QueueFilter:
        def score(name: str) -> float | None:
            text = (args.get(name) or "").strip()
            if not text:
                return None
            try:
                value = float(text)
            except ValueError:
                raise InputError(f"{name}: not a number: {text!r}") from None
            if not 0.0 <= value <= 1.0:
                raise InputError(f"{name}: a confidence lies between 0 and 1, got {text}")
            return value

        return cls(matcher=(args.get("matcher") or "").strip() or None,
                   customer_id=(args.get("customer") or "").strip() or None,
                   min_confidence=score("min_confidence"), max_confidence=score("max_confidence"),
                   currency=(args.get("currency") or "").strip().upper() or None)

    def as_args(self) -> dict[str, str]:
        pairs = {"matcher": self.matcher, "customer": self.customer_id,
                 "min_confidence": self.min_confidence, "max_confidence": self.max_confidence,
                 "currency": self.currency}
        return {k: str(v) for k, v in pairs.items() if v is not None}


@dataclass(frozen=True, slots=True)
class LineView:
    item_id: int | None
    entity: str
    document_number: str
    amount: Decimal
    discount: Decimal
    open_amount: Decimal | None
    currency: str | None
    due_date: dt.date | None


@dataclass(frozen=True, slots=True)
class AdjustmentView:
    kind: str
    amount: Decimal
    reason: str


@dataclass(frozen=True, slots=True)
class ProposalView:
    id: int
    transaction_id: int
    rank: int
    matcher: str
    customer_id: str | None
    customer_name: str | None
    confidence: float
    explanation: str
    evidence: list[dict[str, object]]
    lines: tuple[LineView, ...]
    adjustments: tuple[AdjustmentView, ...]
    state: str

    @property
    def allocated(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)

    @property
    def items_open(self) -> Decimal:
        return sum((line.open_amount or ZERO for line in self.lines), ZERO)


@dataclass(frozen=True, slots=True)
class TransactionView:
    id: int
    amount: Decimal
    currency: str
    value_date: dt.date | None
    booking_date: dt.date | None
    counterparty_name: str | None
    counterparty_iban: str | None
    remittance_text: str | None
    creditor_reference: str | None
    bank_reference: str
    state: str


@dataclass(frozen=True, slots=True)
class QueueEntry:
    proposal: ProposalView
    transaction: TransactionView
    alternatives: tuple[ProposalView, ...] = ()

    @property
    def difference(self) -> Decimal:
        """Payment minus what the proposed items still owe: the part the treatment explains."""
        return self.transaction.amount - self.proposal.items_open


@dataclass(frozen=True, slots=True)
class QueuePage:
    entries: tuple[QueueEntry, ...]
    next_cursor: str | None
    total_pending: int
    filters: QueueFilter = field(default_factory=QueueFilter)

    @property
    def total_is_capped(self) -> bool:
        return self.total_pending > COUNT_CAP


def parse_cursor(text: str | None) -> tuple[float, int] | None:
    if not text:
        return None
    try:
        confidence, _, ident = text.partition("_")
        return float(confidence), int(ident)
    except ValueError:
        raise InputError(f"after: not a queue position: {text!r}") from None


def _pending(filters: QueueFilter) -> Select[int, int, int, float]:
    """Pending proposals under `filters` (best and alternatives), as light rows."""
    p = ProposalRow
    stmt = select(p.id, p.transaction_id, p.rank, p.confidence).where(p.state == "pending")
    if filters.matcher:
        stmt = stmt.where(p.matcher == filters.matcher)
    if filters.customer_id:
        stmt = stmt.where(p.customer_id == filters.customer_id)
    if filters.min_confidence is not None:
        stmt = stmt.where(p.confidence >= filters.min_confidence)
    if filters.max_confidence is not None:
        stmt = stmt.where(p.confidence <= filters.max_confidence)
    if filters.currency:
        stmt = stmt.where(p.transaction_id.in_(
            select(TransactionRow.id).where(TransactionRow.currency == filters.currency)))
    return stmt


def _best_ranks(session: Session, tx_ids: set[int]) -> dict[int, int]:
    """Each transaction's best pending rank. The state test sits inside the aggregate so that
    transaction_id is the only indexable condition: no planner can prefer the (large) state
    index and walk every pending proposal."""
    p = ProposalRow
    rows = session.execute(
        select(p.transaction_id, func.min(case((p.state == "pending", p.rank))))
        .where(p.transaction_id.in_(tx_ids)).group_by(p.transaction_id))
    return {tx_id: rank for tx_id, rank in rows if rank is not None}


def _head_ids(session: Session, filters: QueueFilter, cursor: tuple[float, int] | None,
              wanted: int) -> list[int]:
    """Ids of the next `wanted` queue heads (a transaction's best pending proposal), best first.

    Two plain index range scans per batch instead of one correlated query: both databases
    answer them the same fast way whatever their statistics say, and a page deep in a
    100,000-line queue costs what the first page costs.
    """
    batch = wanted * 2 + 10
    heads: list[int] = []
    while len(heads) < wanted:
        stmt = _pending(filters)
        if cursor is not None:
            confidence, ident = cursor
            # `confidence <= c` alone is what an index range can seek to; the OR then
            # settles ties on the id.
            stmt = stmt.where(ProposalRow.confidence <= confidence,
                              or_(ProposalRow.confidence < confidence, ProposalRow.id < ident))
        rows = session.execute(stmt.order_by(ProposalRow.confidence.desc(),
                                             ProposalRow.id.desc()).limit(batch)).all()
        if not rows:
            break
        best = _best_ranks(session, {row.transaction_id for row in rows})
        heads += [row.id for row in rows if best.get(row.transaction_id) == row.rank]
        if len(rows) < batch:
            break
        cursor = (rows[-1].confidence, rows[-1].id)
    return heads[:wanted]


def head_proposal_ids(session: Session, filters: QueueFilter, limit: int) -> list[int]:
    """Ids of the best pending proposals under `filters`, best first (for bulk accept)."""
    return _head_ids(session, filters, None, limit)


def count_pending(session: Session, cap: int | None = None) -> int:
    """Pending proposals (best and alternatives): the queue's size at a glance.

    With `cap`, counting stops after cap + 1 rows: an exact count of 100,000 rows costs more
    than the rest of the page, and "more than 10,000" tells a reviewer just as much.
    """
    pending = select(ProposalRow.id).where(ProposalRow.state == "pending")
    if cap is not None:
        pending = pending.limit(cap + 1)
    return session.scalar(select(func.count()).select_from(pending.subquery())) or 0


def load_queue(session: Session, filters: QueueFilter, after: str | None = None,
               size: int = PAGE_SIZE) -> QueuePage:
    ids = _head_ids(session, filters, parse_cursor(after), size + 1)
    rows = {r.id: r for r in session.scalars(select(ProposalRow).where(ProposalRow.id.in_(ids)))}
    heads = [rows[i] for i in ids if i in rows]
    next_cursor = None
    if len(heads) > size:
        heads = heads[:size]
        last = heads[-1]
        next_cursor = f"{last.confidence!r}_{last.id}"
    entries = build_entries(session, heads)
    return QueuePage(entries=tuple(entries), next_cursor=next_cursor,
                     total_pending=count_pending(session, COUNT_CAP), filters=filters)


def build_entries(session: Session, heads: list[ProposalRow]) -> list[QueueEntry]:
    if not heads:
        return []
    tx_ids = [h.transaction_id for h in heads]
    head_ids = {h.id for h in heads}
    transactions = {t.id: t for t in session.scalars(
        select(TransactionRow).where(TransactionRow.id.in_(tx_ids)))}
    alternatives: dict[int, list[ProposalRow]] = {}
    # Filter the state in Python: with it in SQL, SQLite prefers the state index and walks
    # every pending proposal instead of the few of these transactions.
    for alt in session.scalars(select(ProposalRow).where(ProposalRow.transaction_id.in_(tx_ids))
                               .order_by(ProposalRow.rank)):
        if alt.id not in head_ids and alt.state == "pending":
            alternatives.setdefault(alt.transaction_id, []).append(alt)
    every = heads + [a for alts in alternatives.values() for a in alts]
    items = _items_for(session, every)
    names = _customer_names(session, {p.customer_id for p in every if p.customer_id})
    return [QueueEntry(proposal=proposal_view(h, items, names),
                       transaction=transaction_view(transactions[h.transaction_id]),
                       alternatives=tuple(proposal_view(a, items, names)
                                          for a in alternatives.get(h.transaction_id, [])))
            for h in heads if h.transaction_id in transactions]


def _items_for(session: Session, proposals: list[ProposalRow]
               ) -> dict[tuple[str, str], OpenItemRow]:
    documents = {str(a.get("document_number")) for p in proposals for a in p.allocations or []}
    if not documents:
        return {}
    rows = session.scalars(select(OpenItemRow).where(OpenItemRow.document_number.in_(documents)))
    return {(r.entity, r.document_number): r for r in rows}


def _customer_names(session: Session, ids: set[str | None]) -> dict[str, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    rows = session.execute(select(CustomerRow.customer_id, CustomerRow.name)
                           .where(CustomerRow.customer_id.in_(wanted)))
    return {cid: name for cid, name in rows}


def proposal_view(row: ProposalRow, items: dict[tuple[str, str], OpenItemRow],
                  names: dict[str, str]) -> ProposalView:
    lines = []
    for allocation in row.allocations or []:
        key = (str(allocation.get("entity", "")), str(allocation.get("document_number", "")))
        item = items.get(key)
        lines.append(LineView(
            item_id=item.id if item else None, entity=key[0], document_number=key[1],
            amount=money(str(allocation.get("amount", "0"))),
            discount=money(str(allocation.get("discount") or "0")),
            open_amount=item.open_amount if item else None,
            currency=item.currency if item else None, due_date=item.due_date if item else None))
    adjustments = tuple(AdjustmentView(kind=str(a.get("kind", "")),
                                       amount=money(str(a.get("amount", "0"))),
                                       reason=str(a.get("reason", "")))
                        for a in row.adjustments or [])
    return ProposalView(
        id=row.id, transaction_id=row.transaction_id, rank=row.rank, matcher=row.matcher,
        customer_id=row.customer_id, customer_name=names.get(row.customer_id or ""),
        confidence=row.confidence, explanation=row.explanation or "",
        evidence=list(row.evidence or []), lines=tuple(lines), adjustments=adjustments,
        state=row.state)


def transaction_view(row: TransactionRow) -> TransactionView:
    return TransactionView(
        id=row.id, amount=row.amount, currency=row.currency, value_date=row.value_date,
        booking_date=row.booking_date, counterparty_name=row.counterparty_name,
        counterparty_iban=row.counterparty_iban, remittance_text=row.remittance_text,
        creditor_reference=row.creditor_reference, bank_reference=row.bank_reference,
        state=row.state)


def load_proposal_entry(session: Session, proposal_id: int) -> QueueEntry:
    """One suggestion with its bank line and items; NotFoundError (404) when there is none."""
    row = session.get(ProposalRow, proposal_id)
    if row is None:
        raise NotFoundError(f"proposal {proposal_id} does not exist")
    return build_entries(session, [row])[0]
