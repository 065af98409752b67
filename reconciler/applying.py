"""Applications: settle open items with a bank transaction, and undo that by reversal.

Every function here is one decision: it works in the caller's session, which the caller
commits as one database transaction (`with db.transaction() as session: ...`), and it writes
its journal row in that same transaction. Nothing is ever deleted: a mistake is undone by a
reversal application whose lines carry the opposite sign.

Invariants enforced here, whoever calls (matcher run, web UI, API):
- per transaction: applied + adjustments + unapplied = amount, exactly;
- an item's open amount never crosses zero (a payment cannot settle more than is owed);
- a transaction has at most one live application (a payment is never applied twice).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, insert, or_, select, update
from sqlalchemy.orm import Session

from reconciler import journal
from reconciler.db.bank import TransactionRow
from reconciler.db.base import utcnow
from reconciler.db.ledger import OpenItemRow
from reconciler.db.matching import ApplicationLineRow, ApplicationRow, ProposalRow
from reconciler.db.prepared import Prepared, holds_write_lock
from reconciler.domain import Adjustment, AdjustmentKind, Allocation, ItemKey, Proposal
from reconciler.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError
from reconciler.learning import forget_from_transaction, learn_from_decision
from reconciler.money import ZERO, format_amount, minor_units, money, quantize
from reconciler.settings import MatchingSettings

# Transaction states from which a decision may still be taken.
OPEN_STATES = frozenset({"unreconciled", "suggested", "unmatched"})


class StaleItemError(ConflictError):
    """An item's open amount changed since the proposal was computed (another worker or a
    person settled part of it): the proposal must be reviewed, not applied blindly."""


def apply_proposal(session: Session, proposal: Proposal, *, status: str, actor: str,
                   proposed_by: str | None = None, approver: bool = False,
                   settings: MatchingSettings | None = None,
                   expected_open: Mapping[ItemKey, Decimal] | None = None) -> int:
    """Apply a matcher's proposal; returns the application id.

    `status` is "auto" (no person involved) or "manual". `expected_open` holds the open amounts
    the proposal was computed against; if an item's amount moved since, StaleItemError.
    """
    if status not in ("auto", "manual"):
        raise InputError(f"application status must be auto or manual, not {status!r}")
    return _apply(session, proposal.payment_id, proposal.customer_id, proposal.allocations,
                  proposal.adjustments, status=status, actor=actor, matcher=proposal.matcher,
                  confidence=proposal.confidence, explanation=proposal.explanation,
                  proposed_by=proposed_by, approver=approver,
                  settings=settings or MatchingSettings(), expected_open=expected_open)


def accept_proposal(session: Session, proposal_id: int, *, actor: str, approver: bool = False,
                    settings: MatchingSettings | None = None) -> int:
    """A reviewer accepts a stored suggestion as it stands; the engine learns the payer."""
    row = session.execute(
        select(ProposalRow).where(ProposalRow.id == proposal_id).with_for_update()
    ).scalar_one_or_none()
    if row is None:
        raise NotFoundError(f"proposal {proposal_id} does not exist")
    if row.state != "pending":
        raise ConflictError(f"proposal {proposal_id} is {row.state}, not pending")
    proposal = proposal_from_row(row)
    application_id = _apply(
        session, row.transaction_id, row.customer_id, proposal.allocations, proposal.adjustments,
        status="manual", actor=actor, matcher=row.matcher, confidence=row.confidence,
        explanation=row.explanation, proposed_by=f"matcher:{row.matcher}", approver=approver,
        settings=settings or MatchingSettings(), accepted_proposal_id=row.id)
    if row.customer_id:
        learn_from_decision(session, row.transaction_id, row.customer_id, actor=actor)
    return application_id


def reject_proposal(session: Session, proposal_id: int, *, actor: str, reason: str) -> None:
    """A reviewer says no. The engine will not propose the same items for this line again."""
    row = session.execute(
        select(ProposalRow).where(ProposalRow.id == proposal_id).with_for_update()
    ).scalar_one_or_none()
    if row is None:
        raise NotFoundError(f"proposal {proposal_id} does not exist")
    if row.state != "pending":
        raise ConflictError(f"proposal {proposal_id} is {row.state}, not pending")
    row.state = "rejected"
    transaction = _lock_transaction(session, row.transaction_id)
    remaining = session.scalar(
        select(ProposalRow.id).where(ProposalRow.transaction_id == row.transaction_id,
                                     ProposalRow.state == "pending").limit(1))
    if remaining is None and transaction.state == "suggested":
        transaction.state = "unmatched"  # nothing left to review: the exception queue
    journal.record(session, actor=actor, action="proposal.rejected",
                   subject=f"payment:{row.transaction_id}", reason=reason,
                   data={"proposal_id": row.id, "matcher": row.matcher, "rank": row.rank,
                         "items": [a["document_number"] for a in row.allocations]})
    session.flush()


def apply_manual(session: Session, transaction_id: int, allocations: Sequence[Allocation],
                 adjustments: Sequence[Adjustment] = (), *, actor: str, reason: str = "",
                 customer_id: str | None = None, approver: bool = False,
                 settings: MatchingSettings | None = None) -> int:
    """A person matches a line by hand (items, adjustments); returns the application id."""
    customer = customer_id or _customer_of(session, allocations)
    application_id = _apply(
        session, transaction_id, customer, tuple(allocations), tuple(adjustments),
        status="manual", actor=actor, matcher=None, confidence=None, explanation=reason,
        proposed_by=None, approver=approver, settings=settings or MatchingSettings())
    if customer:
        learn_from_decision(session, transaction_id, customer, actor=actor)
    return application_id


def put_on_account(session: Session, transaction_id: int, customer_id: str, *, actor: str,
                   reason: str = "") -> int:
    """Keep the whole payment as unapplied cash on the customer's account."""
    transaction = _lock_transaction(session, transaction_id)
    unapplied = Adjustment(AdjustmentKind.UNAPPLIED, transaction.amount,
                           reason or "put on account")
    application_id = _apply(
        session, transaction_id, customer_id, (), (unapplied,), status="manual", actor=actor,
        matcher=None, confidence=None, explanation=reason or "put on account",
        proposed_by=None, approver=False, settings=MatchingSettings())
    learn_from_decision(session, transaction_id, customer_id, actor=actor)
    return application_id


def mark_not_receivable(session: Session, transaction_id: int, *, actor: str,
                        reason: str) -> None:
    """The line is not customer cash (a tax refund, an internal transfer): out of the queues."""
    transaction = _lock_transaction(session, transaction_id)
    _require_open(session, transaction)
    transaction.state = "not_receivable"
    _close_pending_proposals(session, transaction_id)
    journal.record(session, actor=actor, action="transaction.not_receivable",
                   subject=f"payment:{transaction_id}", reason=reason,
                   data={"amount": transaction.amount,
                         "bank_reference": transaction.bank_reference})
    session.flush()


def reverse_application(session: Session, application_id: int, *, actor: str,
                        reason: str) -> int:
    """Undo an application by a reversal with opposite-signed lines; returns the reversal id.

    The items get their open amounts back, the transaction returns to `unreconciled`, and what
    the engine learned from this decision is deactivated.
    """
    original = session.execute(
        select(ApplicationRow).where(ApplicationRow.id == application_id).with_for_update()
    ).scalar_one_or_none()
    if original is None:
        raise NotFoundError(f"application {application_id} does not exist")
    if original.reverses_id is not None:
        raise ConflictError(f"application {application_id} is itself a reversal")
    if original.reversed_by_id is not None:
        raise ConflictError(f"application {application_id} is already reversed by "
                            f"{original.reversed_by_id}")
    transaction = _lock_transaction(session, original.transaction_id)
    item_ids = sorted({line.item_id for line in original.lines if line.item_id is not None})
    items = {row.id: row for row in session.scalars(
        select(OpenItemRow).where(OpenItemRow.id.in_(item_ids)).order_by(OpenItemRow.id)
        .with_for_update())} if item_ids else {}
    reversal = ApplicationRow(
        transaction_id=original.transaction_id, customer_id=original.customer_id,
        status="reversal", matcher=None, confidence=None, explanation=reason, actor=actor,
        proposed_by=None, reverses_id=original.id)
    for line in original.lines:
        reversal.lines.append(ApplicationLineRow(kind=line.kind, item_id=line.item_id,
                                                 amount=-line.amount, reason=reason))
        if line.item_id is not None:
            item = items[line.item_id]
            item.open_amount = item.open_amount + line.amount
            if item.status == "closed" and item.open_amount != ZERO:
                item.status = "open"
    session.add(reversal)
    session.flush()
    original.reversed_by_id = reversal.id
    transaction.state = "unreconciled"
    forget_from_transaction(session, original.transaction_id, actor=actor)
    journal.record(session, actor=actor, action="application.reversed",
                   subject=f"payment:{original.transaction_id}", reason=reason,
                   data={"application_id": original.id, "reversal_id": reversal.id,
                         "lines": [{"kind": line.kind, "item_id": line.item_id,
                                    "amount": line.amount} for line in reversal.lines]})
    session.flush()
    return reversal.id


def claim_state(session: Session, transaction_id: int) -> str | None:
    """Lock a line for a decision and return its state; None when another worker holds it
    or it was decided meanwhile.

    On PostgreSQL this is `SELECT ... FOR UPDATE SKIP LOCKED`: concurrent matcher runs each
    take what nobody else is deciding, and the state check after the lock means a line applied
    by a worker that committed first is seen as applied. SQLite has one writer at a time: the
    claim starts with a write, so the checks that follow read what the last writer committed.
    """
    line = _read_line(session, transaction_id, skip_locked=True, only_open=True)
    return None if line is None else line.state


def apply_claimed(session: Session, proposal: Proposal, *, actor: str,
                  settings: MatchingSettings,
                  expected_open: Mapping[ItemKey, Decimal] | None = None,
                  explanation: str | None = None) -> int | None:
    """The matcher run's automatic application: claim the line (skipping one that another
    worker holds or has decided) and apply in the same transaction; None when skipped.
    `explanation`, when given, replaces the proposal's own (the run's full account)."""
    line = _read_line(session, proposal.payment_id, skip_locked=True, only_open=True)
    if line is None:
        return None
    return _apply(session, proposal.payment_id, proposal.customer_id, proposal.allocations,
                  proposal.adjustments, status="auto", actor=actor, matcher=proposal.matcher,
                  confidence=proposal.confidence,
                  explanation=proposal.explanation if explanation is None else explanation,
                  proposed_by=None, approver=False, settings=settings,
                  expected_open=expected_open, claimed=line)


def proposal_from_row(row: ProposalRow) -> Proposal:
    allocations = tuple(
        Allocation(ItemKey(a["entity"], a["document_number"]), money(a["amount"]),
                   money(a.get("discount") or "0")) for a in row.allocations)
    adjustments = tuple(Adjustment(AdjustmentKind(a["kind"]), money(a["amount"]),
                                   a.get("reason", "")) for a in row.adjustments)
    return Proposal(payment_id=row.transaction_id, matcher=row.matcher,
                    customer_id=row.customer_id, allocations=allocations,
                    adjustments=adjustments, confidence=row.confidence,
                    explanation=row.explanation)


# --- the one place that writes an application -------------------------------------------


@dataclass(frozen=True, slots=True)
class _Line:
    """The stored bank line, as read under lock (plain values, not an ORM object)."""

    id: int
    amount: Decimal
    currency: str
    paid_on: dt.date | None
    state: str
    live_application: int | None  # an application not reversed: the line is decided


@dataclass(frozen=True, slots=True)
class _Item:
    id: int
    key: ItemKey
    currency: str
    open_amount: Decimal
    status: str
    discount_rate: Decimal | None
    discount_due_date: dt.date | None


_T = cast(Table, TransactionRow.__table__)
_I = cast(Table, OpenItemRow.__table__)
_A = cast(Table, ApplicationRow.__table__)
_L = cast(Table, ApplicationLineRow.__table__)


# The line and, in the same statement, its live application if it has one.
_LIVE = select(_A.c.id).where(_A.c.transaction_id == _T.c.id, _A.c.reverses_id.is_(None),
                              _A.c.reversed_by_id.is_(None)).limit(1).correlate(_T).scalar_subquery()
_LINE_COLUMNS = (_T.c.id, _T.c.amount, _T.c.currency, _T.c.value_date, _T.c.booking_date,
                 _T.c.state, _LIVE)


def _read_line_statement(dialect: str, skip_locked: bool, only_open: bool) -> Any:
    condition = _T.c.id == bindparam("line_id")
    if only_open and dialect != "postgresql":
        condition = condition & or_(*(_T.c.state == state for state in sorted(OPEN_STATES)))
    if dialect == "sqlite":
        return select(*_LINE_COLUMNS).where(condition)  # the write lock is held (see below)
    return select(*_LINE_COLUMNS).where(condition) \
        .with_for_update(skip_locked=skip_locked)


# The statements of a decision are prepared once (`reconciler.db.prepared`): a matcher run
# takes a hundred thousand decisions, and building a statement costs more than running it.
_READ_LINE = {(dialect, skip_locked, only_open): Prepared(_read_line_statement(
                  dialect, skip_locked, only_open))
              for dialect in ("sqlite", "postgresql")
              for skip_locked in (True, False) for only_open in (True, False)}
_TAKE_WRITE_LOCK = Prepared(update(_T).where(_T.c.id == bindparam("line_id"))
                            .values(state=_T.c.state))
_INSERT_APPLICATION = Prepared(insert(_A).values(
    {name: bindparam(f"p_{name}") for name in (
        "transaction_id", "customer_id", "status", "matcher", "confidence", "explanation",
        "actor", "proposed_by", "applied_at")}).returning(_A.c.id))
_INSERT_LINE = Prepared(insert(_L).values(
    {name: bindparam(f"p_{name}") for name in ("application_id", "kind", "item_id", "amount",
                                                "reason")}))
_SETTLE_ITEM = Prepared(update(_I).where(_I.c.id == bindparam("p_item")).values(
    open_amount=bindparam("p_left"), status=bindparam("p_state"),
    updated_at=bindparam("p_at")))
_SET_LINE_STATE = Prepared(update(_T).where(_T.c.id == bindparam("p_line"))
                           .values(state=bindparam("p_state")))


def _read_line(session: Session, transaction_id: int, *, skip_locked: bool = False,
               only_open: bool = False) -> _Line | None:
    """Lock and read one bank line; None when absent (or, with skip_locked, taken)."""
    dialect = "sqlite" if _is_sqlite(session) else "postgresql"
    if dialect == "sqlite" and not holds_write_lock(session):
        # SQLite has one writer at a time and no row locks: a no-op write takes the
        # database's write lock first, so the read sees what the last writer committed and
        # nobody else decides the line before this transaction ends.
        _TAKE_WRITE_LOCK.execute(session, {"line_id": transaction_id})
    statement = _READ_LINE[(dialect, skip_locked, only_open)]
    rows = statement.execute(session, {"line_id": transaction_id})
    if not rows:
        return None
    line_id, amount, currency, value_date, booking_date, state, live = rows[0]
    if only_open and state not in OPEN_STATES:
        return None
    return _Line(line_id, amount, currency, value_date or booking_date, state, live)


def _apply(session: Session, transaction_id: int, customer_id: str | None,
           allocations: Sequence[Allocation], adjustments: Sequence[Adjustment], *,
           status: str, actor: str, matcher: str | None, confidence: float | None,
           explanation: str, proposed_by: str | None, approver: bool,
           settings: MatchingSettings,
           expected_open: Mapping[ItemKey, Decimal] | None = None,
           accepted_proposal_id: int | None = None, claimed: _Line | None = None) -> int:
    session.flush()
    with session.no_autoflush:  # plain statements below: no unit of work to flush each time
        return _apply_unflushed(
            session, transaction_id, customer_id, allocations, adjustments, status=status,
            actor=actor, matcher=matcher, confidence=confidence, explanation=explanation,
            proposed_by=proposed_by, approver=approver, settings=settings,
            expected_open=expected_open, accepted_proposal_id=accepted_proposal_id,
            claimed=claimed)


def _apply_unflushed(session: Session, transaction_id: int, customer_id: str | None,
                     allocations: Sequence[Allocation], adjustments: Sequence[Adjustment], *,
                     status: str, actor: str, matcher: str | None, confidence: float | None,
                     explanation: str, proposed_by: str | None, approver: bool,
                     settings: MatchingSettings, expected_open: Mapping[ItemKey, Decimal] | None,
                     accepted_proposal_id: int | None, claimed: _Line | None) -> int:
    line = claimed or _read_line(session, transaction_id)
    if line is None:
        raise NotFoundError(f"transaction {transaction_id} does not exist")
    _require_open_line(line)
    where = f"payment {transaction_id}"
    if line.amount <= ZERO:
        raise InputError("only credits (money in) settle receivables", where=where)
    _check_balance(line.amount, allocations, adjustments, where)
    _check_adjustments(line.currency, customer_id, adjustments, settings, approver, where)
    items = _lock_items(session, allocations, where)
    rows: list[tuple[str, int | None, Decimal, str]] = []  # kind, item, amount, reason
    changes: list[dict[str, Any]] = []
    now = utcnow()
    for allocation in allocations:
        item = items[allocation.item]
        _check_allocation(item, allocation, line.currency, line.paid_on, where)
        if expected_open is not None and allocation.item in expected_open \
                and expected_open[allocation.item] != item.open_amount:
            raise StaleItemError(
                f"{where}: item {allocation.item} is open for "
                f"{format_amount(item.open_amount)}, the proposal saw "
                f"{format_amount(expected_open[allocation.item])}")
        rows.append(("item", item.id, allocation.amount, ""))
        if allocation.discount:
            rows.append(("discount", item.id, allocation.discount,
                         f"cash discount {item.discount_rate} within terms"))
        left = item.open_amount - allocation.settled
        changes.append({"p_item": item.id, "p_left": left, "p_at": now,
                        "p_state": "closed" if left == ZERO else "open"})
    rows.extend((a.kind.value, None, a.amount, a.reason) for a in adjustments)
    [(application_id,)] = _INSERT_APPLICATION.execute(session, {
        "p_transaction_id": line.id, "p_customer_id": customer_id, "p_status": status,
        "p_matcher": matcher, "p_confidence": confidence, "p_explanation": explanation,
        "p_actor": actor, "p_proposed_by": proposed_by, "p_applied_at": now})
    _INSERT_LINE.execute_many(session, [
        {"p_application_id": application_id, "p_kind": kind, "p_item_id": item_id,
         "p_amount": amount, "p_reason": reason} for kind, item_id, amount, reason in rows])
    _SETTLE_ITEM.execute_many(session, changes)
    _SET_LINE_STATE.execute(session, {"p_line": line.id,
                                      "p_state": "applied" if allocations else "on_account"})
    if line.state == "suggested" or accepted_proposal_id is not None:
        _close_pending_proposals(session, line.id, accepted=accepted_proposal_id)
    journal.record(session, actor=actor, action="application.created",
                   subject=f"payment:{line.id}", reason=explanation,
                   data=_journal_data(application_id, status, customer_id, matcher, confidence,
                                      proposed_by, allocations, adjustments))
    if session.identity_map:
        session.expire_all()  # ORM copies of the rows written above are stale now
    return int(application_id)


def _journal_data(application_id: int, status: str, customer_id: str | None,
                  matcher: str | None, confidence: float | None, proposed_by: str | None,
                  allocations: Sequence[Allocation],
                  adjustments: Sequence[Adjustment]) -> dict[str, Any]:
    return {
        "application_id": application_id, "status": status, "customer_id": customer_id,
        "matcher": matcher, "confidence": confidence, "proposed_by": proposed_by,
        "allocations": [{"item": str(a.item), "amount": a.amount, "discount": a.discount}
                        for a in allocations],
        "adjustments": [{"kind": a.kind.value, "amount": a.amount, "reason": a.reason}
                        for a in adjustments],
    }


def _lock_transaction(session: Session, transaction_id: int) -> TransactionRow:
    if _read_line(session, transaction_id) is None:
        raise NotFoundError(f"transaction {transaction_id} does not exist")
    row = session.get(TransactionRow, transaction_id, populate_existing=True)
    assert row is not None  # locked just above
    return row


def _is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def _require_open(session: Session, transaction: TransactionRow) -> None:
    line = _read_line(session, transaction.id)
    assert line is not None  # locked by the caller
    _require_open_line(line)


def _require_open_line(line: _Line) -> None:
    if line.live_application is not None:
        raise ConflictError(f"payment {line.id} is already applied (application "
                            f"{line.live_application}); reverse that application first")
    if line.state not in OPEN_STATES:
        raise ConflictError(f"payment {line.id} is {line.state}; no decision can be taken "
                            "on it")


def _check_balance(amount: Decimal, allocations: Sequence[Allocation],
                   adjustments: Sequence[Adjustment], where: str) -> None:
    if not allocations and not any(a.kind is AdjustmentKind.UNAPPLIED for a in adjustments):
        raise InputError("an application needs items or unapplied cash", where=where)
    applied = sum((a.amount for a in allocations), ZERO)
    adjusted = sum((a.amount for a in adjustments), ZERO)
    if applied + adjusted != amount:
        raise InputError(
            f"applied {format_amount(applied)} + adjustments {format_amount(adjusted)} "
            f"!= amount {format_amount(amount)}", where=where)


def _check_adjustments(currency: str, customer_id: str | None,
                       adjustments: Sequence[Adjustment], settings: MatchingSettings,
                       approver: bool, where: str) -> None:
    tolerance = settings.tolerance(currency)
    for adjustment in adjustments:
        amount = adjustment.amount
        if amount == ZERO:
            raise InputError(f"{adjustment.kind.value} adjustment of zero", where=where)
        if adjustment.kind is AdjustmentKind.DISCOUNT:
            # A discount settles an item without cash: it belongs on that item's allocation.
            raise InputError("a cash discount goes on the item's allocation, not as an "
                             "adjustment of the payment", where=where)
        if adjustment.kind is AdjustmentKind.UNAPPLIED:
            if amount < ZERO:
                raise InputError("unapplied cash must be positive (an overpayment)", where=where)
            if not customer_id:
                raise InputError("unapplied cash needs the customer whose account keeps it",
                                 where=where)
        elif adjustment.kind is AdjustmentKind.BANK_CHARGE:
            # Intermediary banks deduct their fee: the payment arrives short, never long.
            if amount > ZERO:
                raise InputError("a bank charge reduces the payment: it must be negative",
                                 where=where)
            if -amount > tolerance.bank_charge:
                raise InputError(f"bank charge {format_amount(-amount)} exceeds the tolerance "
                                 f"{format_amount(tolerance.bank_charge)}", where=where)
        elif (adjustment.kind is AdjustmentKind.WRITE_OFF
              and abs(amount) > settings.write_off_limit and not approver):
            raise PermissionDeniedError(
                f"{where}: write-off {format_amount(abs(amount))} is above the limit "
                f"{format_amount(settings.write_off_limit)}; an approver must book it")


_LOCK_ITEMS: dict[tuple[int, bool], Prepared] = {}  # by number of items and dialect


def _lock_items_statement(count: int, sqlite: bool) -> Prepared:
    statement = _LOCK_ITEMS.get((count, sqlite))
    if statement is None:
        select_items = select(
            _I.c.id, _I.c.entity, _I.c.document_number, _I.c.currency, _I.c.open_amount,
            _I.c.status, _I.c.discount_rate, _I.c.discount_due_date,
        ).where(or_(*(and_(_I.c.entity == bindparam(f"entity_{n}"),
                           _I.c.document_number == bindparam(f"document_{n}"))
                      for n in range(count))))
        # PostgreSQL locks the rows in id order, so that two workers settling overlapping
        # items cannot deadlock. SQLite's one writer holds the whole database already: no
        # order to keep, and no sort to pay for.
        statement = Prepared(select_items if sqlite
                             else select_items.order_by(_I.c.id).with_for_update())
        _LOCK_ITEMS[(count, sqlite)] = statement
    return statement


def _lock_items(session: Session, allocations: Sequence[Allocation],
                where: str) -> dict[ItemKey, _Item]:
    keys = [a.item for a in allocations]
    if len(set(keys)) != len(keys):
        raise InputError("the same item appears twice in one application", where=where)
    if not keys:
        return {}
    # An OR of key pairs, not a row-value IN: SQLite answers that one with a full scan.
    params = {}
    for n, k in enumerate(keys):
        params[f"entity_{n}"], params[f"document_{n}"] = k.entity, k.document_number
    statement = _lock_items_statement(len(keys), _is_sqlite(session))
    found = {}
    for row in statement.execute(session, params):
        key = ItemKey(row[1], row[2])
        found[key] = _Item(row[0], key, *row[3:])
    missing = [str(k) for k in keys if k not in found]
    if missing:
        raise NotFoundError(f"{where}: no open item {', '.join(missing)}")
    return found


def _check_allocation(item: _Item, allocation: Allocation, currency: str,
                      paid_on: dt.date | None, where: str) -> None:
    key = allocation.item
    if item.status == "disputed":
        raise ConflictError(f"{where}: item {key} is in dispute")
    if item.status != "open":
        raise ConflictError(f"{where}: item {key} is {item.status}")
    if item.currency != currency:
        raise InputError(f"item {key} is in {item.currency}, the payment in {currency}",
                         where=where)
    settled = allocation.settled
    owed = item.open_amount
    # Invoices are owed positive amounts, credit notes negative ones; a settlement takes the
    # item towards zero and never beyond it.
    if settled == ZERO or (settled > ZERO) != (owed > ZERO) or abs(settled) > abs(owed):
        raise ConflictError(f"{where}: settling {format_amount(settled)} on item {key} open "
                            f"for {format_amount(owed)} would cross zero")
    if allocation.discount:
        _check_discount(item, allocation, currency, paid_on, where)


def _check_discount(item: _Item, allocation: Allocation, currency: str,
                    paid_on: dt.date | None, where: str) -> None:
    key = allocation.item
    if allocation.discount < ZERO or item.open_amount < ZERO:
        raise InputError(f"cash discount on {key} must be positive, on an invoice", where=where)
    if not item.discount_rate or item.discount_due_date is None:
        raise InputError(f"item {key} grants no cash discount", where=where)
    if paid_on is None or paid_on > item.discount_due_date:
        raise InputError(f"cash discount on {key} taken after its terms "
                         f"({item.discount_due_date})", where=where)
    # Customers round the discount their own way: one minor unit of slack.
    allowed = quantize(item.open_amount * item.discount_rate, currency) \
        + Decimal(1).scaleb(-minor_units(currency))
    if allocation.discount > allowed:
        raise InputError(f"cash discount {format_amount(allocation.discount)} on {key} is more "
                         f"than the terms allow", where=where)


def _customer_of(session: Session, allocations: Sequence[Allocation]) -> str | None:
    if not allocations:
        return None
    key = allocations[0].item
    return session.scalar(select(OpenItemRow.customer_id).where(
        OpenItemRow.entity == key.entity, OpenItemRow.document_number == key.document_number))


def _close_pending_proposals(session: Session, transaction_id: int,
                             accepted: int | None = None) -> None:
    session.execute(
        update(ProposalRow)
        .where(ProposalRow.transaction_id == transaction_id, ProposalRow.state == "pending")
        .values(state="superseded"))
    if accepted is not None:
        session.execute(update(ProposalRow).where(ProposalRow.id == accepted)
                        .values(state="accepted"))
