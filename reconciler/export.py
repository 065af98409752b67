"""The match export (DESIGN.md, "Match export"): one row per bank transaction and item.

Columns, in this order: `bank_reference, rank, document_number, applied_amount, status,
matcher, confidence`, then the further columns of `EXTRA_COLUMNS`. Statuses: `auto` (applied
without a person), `manual` (applied by a person: accepted, matched by hand, put on account,
marked as not receivables), `suggested` (waiting for review: the ranked proposals, rank 1 the
best, alternatives 2, 3, ...; the items of one proposal share its rank), `unmatched` (one row,
empty document). Credits only: debits are not receivables.

The export streams: transactions are read in keyset-paged batches, so memory stays flat
whatever the size of the table.
"""

from __future__ import annotations

import csv
import io
import json
import typing
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from reconciler.db.bank import StatementRow, TransactionRow
from reconciler.db.ledger import OpenItemRow
from reconciler.db.matching import ApplicationLineRow, ApplicationRow, ProposalRow
from reconciler.errors import InputError
from reconciler.money import ZERO, format_amount, minor_units

CONTRACT_COLUMNS = ("bank_reference", "rank", "document_number", "applied_amount", "status",
                    "matcher", "confidence")
EXTRA_COLUMNS = ("statement_id", "value_date", "amount", "currency", "payer_name", "payer_iban",
                 "customer_id", "entity", "discount_amount", "adjustment_amount",
                 "unapplied_amount", "explanation", "transaction_id")
COLUMNS = CONTRACT_COLUMNS + EXTRA_COLUMNS
FORMATS = ("csv", "json")
BATCH = 5000

_ADJUSTMENT_KINDS = ("bank_charge", "write_off")


@dataclass(frozen=True, slots=True)
class MatchRow:
    bank_reference: str
    rank: int
    document_number: str | None
    applied_amount: Decimal | None
    status: str  # auto | suggested | manual | unmatched
    matcher: str | None
    confidence: float | None
    statement_id: str | None
    value_date: str | None
    amount: Decimal
    currency: str
    payer_name: str | None
    payer_iban: str | None
    customer_id: str | None
    entity: str | None
    discount_amount: Decimal | None
    adjustment_amount: Decimal | None
    unapplied_amount: Decimal | None
    explanation: str
    transaction_id: int


def iter_match_rows(session: Session, *, batch: int = BATCH) -> Iterator[MatchRow]:
    """Every credit transaction in id order, with its applied or suggested items."""
    for values in _match_values(session, batch):
        yield MatchRow(*values)


def export_matches(session: Session, out: TextIO, *, format: str = "csv") -> int:
    """Write the export to `out`; returns the number of rows."""
    if format not in FORMATS:
        raise InputError(f"export format must be one of {', '.join(FORMATS)}, not {format!r}")
    count = 0
    if format == "csv":
        csv.writer(out, lineterminator="\n").writerow(COLUMNS)
        lines: list[str] = []
        for values in _match_values(session, BATCH):
            lines.append(",".join(map(_csv_cell, values)))
            count += 1
            if len(lines) == BATCH:
                out.write("\n".join(lines) + "\n")
                lines.clear()
        if lines:
            out.write("\n".join(lines) + "\n")
        return count
    out.write("[")
    for values in _match_values(session, BATCH):
        out.write(",\n" if count else "\n")
        out.write(json.dumps({c: _json_value(v) for c, v in zip(COLUMNS, values, strict=True)},
                             ensure_ascii=False))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


# --- rows -----------------------------------------------------------------------------------
# A row is first a plain tuple in `COLUMNS` order: the export writes a hundred thousand rows
# and more, and a frozen dataclass per row cost as much as the formatting. `MatchRow` is built
# from the same tuple for callers that want names.

_Values = tuple[Any, ...]


def _match_values(session: Session, batch: int) -> Iterator[_Values]:
    last = 0
    t = TransactionRow
    while True:
        # Plain column rows, not ORM objects: an export can run to millions of rows.
        transactions = session.connection().execute(
            select(t.id, t.bank_reference, t.value_date, t.booking_date, t.amount, t.currency,
                   t.counterparty_name, t.counterparty_iban, t.state, StatementRow.statement_id)
            .join(StatementRow, StatementRow.id == t.statement_id)
            .where(t.id > last, t.amount > ZERO, t.state != "linked")
            .order_by(t.id).limit(batch)).all()
        if not transactions:
            return
        ids = [transaction.id for transaction in transactions]
        # The batch's applications and proposals by the id range it spans (one indexed range
        # instead of thousands of bound ids), then only those of the batch's transactions.
        wanted = set(ids)
        applications = _live_applications(session, ids[0], ids[-1], wanted)
        lines = _application_lines(session, ids[0], ids[-1])
        proposals = _pending_proposals(session, ids[0], ids[-1], wanted)
        for transaction in transactions:
            base = _Base(transaction, transaction.statement_id or None)
            application = applications.get(transaction.id)
            if application is not None:
                yield from _applied_rows(base, application, lines[application.id])
            elif transaction.state == "suggested" and transaction.id in proposals:
                yield from _suggested_rows(base, proposals[transaction.id])
            elif transaction.state == "not_receivable":
                yield base.row(status="manual", explanation="not receivables")
            else:
                yield base.row(status="unmatched")
        last = ids[-1]


_EXPONENTS: dict[str | None, Decimal] = {}  # currency -> its minor unit as an exponent


class _Base:
    """What every row of one transaction shares, and its currency's rounding."""

    __slots__ = ("_exponent", "_head", "_middle", "_tail")

    def __init__(self, transaction: Any, statement_id: str | None) -> None:  # a Core row
        t = transaction
        exponent = _EXPONENTS.get(t.currency)
        if exponent is None:
            exponent = _EXPONENTS[t.currency] = Decimal(1).scaleb(-minor_units(t.currency))
        self._exponent = exponent
        value_date = t.value_date or t.booking_date
        self._head = t.bank_reference
        self._middle = (statement_id, value_date.isoformat() if value_date else None,
                        self._exact(t.amount), t.currency, t.counterparty_name,
                        t.counterparty_iban)
        self._tail = t.id

    def _exact(self, amount: Decimal | None) -> Decimal | None:
        # `money.quantize` with the exponent looked up once per transaction
        return None if amount is None else amount.quantize(self._exponent,
                                                           rounding=ROUND_HALF_EVEN)

    def row(self, *, status: str, rank: int = 1, document_number: str | None = None,
            entity: str | None = None, applied_amount: Decimal | None = None,
            matcher: str | None = None, confidence: float | None = None,
            customer_id: str | None = None, discount: Decimal | None = None,
            adjustment: Decimal | None = None, unapplied: Decimal | None = None,
            explanation: str = "") -> _Values:
        exact = self._exact
        return (self._head, rank, document_number, exact(applied_amount), status, matcher,
                confidence, *self._middle, customer_id, entity, exact(discount),
                exact(adjustment), exact(unapplied), explanation, self._tail)


def _live_applications(session: Session, first: int, last: int,
                       wanted: set[int]) -> dict[int, Any]:
    a = ApplicationRow
    rows = session.connection().execute(select(
        a.id, a.transaction_id, a.status, a.matcher, a.confidence, a.customer_id,
        a.explanation).where(a.transaction_id.between(first, last), a.reverses_id.is_(None),
                             a.reversed_by_id.is_(None))
        .order_by(a.transaction_id, a.id))
    return {row.transaction_id: row for row in rows if row.transaction_id in wanted}


def _pending_proposals(session: Session, first: int, last: int,
                       wanted: set[int]) -> dict[int, list[Any]]:
    found: dict[int, list[Any]] = defaultdict(list)
    p = ProposalRow
    for row in session.connection().execute(select(
            p.transaction_id, p.rank, p.matcher, p.confidence, p.customer_id, p.explanation,
            p.allocations, p.adjustments).where(p.transaction_id.between(first, last),
                                                p.state == "pending")
            .order_by(p.transaction_id, p.rank)):
        if row.transaction_id in wanted:
            found[row.transaction_id].append(row)
    return found


_Line = tuple[str, Decimal, str | None, str | None]  # kind, amount, entity, document


def _application_lines(session: Session, first: int, last: int) -> dict[int, list[_Line]]:
    """The lines of the live applications of transactions `first` to `last`, by application."""
    found: dict[int, list[_Line]] = defaultdict(list)
    line, item, a = ApplicationLineRow, OpenItemRow, ApplicationRow
    rows = session.connection().execute(
        select(line.application_id, line.kind, line.amount, item.entity, item.document_number)
        .join(a, a.id == line.application_id)
        .outerjoin(item, item.id == line.item_id)
        .where(a.transaction_id.between(first, last), a.reverses_id.is_(None),
               a.reversed_by_id.is_(None))
        .order_by(line.id))
    for application_id, kind, amount, entity, document in rows:
        found[application_id].append((kind, amount, entity, document))
    return found


def _applied_rows(base: _Base, application: Any, lines: list[_Line]) -> Iterator[_Values]:
    applied: dict[tuple[str, str], Decimal] = {}
    discounts: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    adjustment = unapplied = ZERO
    for kind, amount, entity, document in lines:
        if kind == "item" and entity is not None and document is not None:
            applied[(entity, document)] = applied.get((entity, document), ZERO) + amount
        elif kind == "discount" and entity is not None and document is not None:
            discounts[(entity, document)] += amount
        elif kind in _ADJUSTMENT_KINDS:
            adjustment += amount
        elif kind == "unapplied":
            unapplied += amount
    if not applied:  # all of it on account
        yield base.row(status=application.status, applied_amount=ZERO,
                       matcher=application.matcher, confidence=application.confidence,
                       customer_id=application.customer_id, adjustment=adjustment,
                       unapplied=unapplied, explanation=application.explanation)
        return
    for (entity, document), amount in applied.items():
        yield base.row(status=application.status, document_number=document, entity=entity,
                       applied_amount=amount, matcher=application.matcher,
                       confidence=application.confidence, customer_id=application.customer_id,
                       discount=discounts.get((entity, document), ZERO), adjustment=adjustment,
                       unapplied=unapplied, explanation=application.explanation)


def _suggested_rows(base: _Base, proposals: list[Any]) -> Iterator[_Values]:
    for proposal in proposals:
        adjustment = sum((Decimal(a["amount"]) for a in proposal.adjustments
                          if a["kind"] in _ADJUSTMENT_KINDS), ZERO)
        unapplied = sum((Decimal(a["amount"]) for a in proposal.adjustments
                         if a["kind"] == "unapplied"), ZERO)
        allocations = proposal.allocations or [{}]  # on account only: one row, no document
        for allocation in allocations:
            yield base.row(
                status="suggested", rank=proposal.rank,
                document_number=allocation.get("document_number"),
                entity=allocation.get("entity"),
                applied_amount=Decimal(allocation.get("amount") or "0"),
                matcher=proposal.matcher, confidence=proposal.confidence,
                customer_id=proposal.customer_id,
                discount=Decimal(allocation.get("discount") or "0"), adjustment=adjustment,
                unapplied=unapplied, explanation=proposal.explanation)


def _csv_value(value: object) -> str:
    if value is None:
        return ""
    if value.__class__ is str:  # most cells: no further checks
        return value
    if isinstance(value, Decimal):
        return format_amount(value)
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def _csv_cell(value: object) -> str:
    """`_csv_value` as `csv.writer(lineterminator="\\n")` writes it (minimal quoting, quotes
    doubled), without the writer's per-row call: the explanations are long and multi-line."""
    if value is None:
        return ""
    kind = value.__class__
    if kind is Decimal:
        return f"{value:f}"  # `format_amount`; digits, sign and point never need quoting
    text = typing.cast(str, value) if kind is str else _csv_value(value)
    if "\r" in text:  # rare; whether it is quoted differs between Python versions
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerow((text, ""))
        return out.getvalue()[:-2]
    if '"' in text or "," in text or "\n" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def _json_value(value: object) -> object:
    if isinstance(value, Decimal):
        return format_amount(value)
    if isinstance(value, float):
        return round(value, 4)
    return value
