"""The daily dunning run: which items reach which stage today, and what to do about it.

The rule that matters most: never chase a customer who has paid (a payment waiting for review
counts), who disputes the invoice, or who promised to pay by a date not yet passed. Every item
that would have been chased but is not gets its skip reason in the report, so that a
collector can see why a customer was left alone.

One run per date: running again on the same date returns the first run's result and writes
nothing. The run is one database transaction; each action is one journal row.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reconciler import journal, letters, promises, risk
from reconciler.db.bank import TransactionRow, state_in
from reconciler.db.collections import (
    DunningActionRow,
    DunningRunRow,
    EmailOutboxRow,
    ItemDunningRow,
)
from reconciler.db.ledger import CustomerIbanRow, CustomerRow, OpenItemRow
from reconciler.db.matching import ApplicationLineRow, ApplicationRow, ProposalRow
from reconciler.db.session import Database
from reconciler.disputes import open_disputed_item_ids
from reconciler.settings import Settings
from rules.dunning import Plan, PlanBook, Stage, late_interest, load_plans

SKIP_REASONS = ("dispute", "promise", "pending_match", "unapplied_cash", "below_minimum")
_OPEN_PAYMENT_STATES = ("unreconciled", "suggested", "unmatched")


@dataclass(frozen=True, slots=True)
class DueItem:
    item_id: int
    document_number: str
    due_date: dt.date
    days_overdue: int
    open_amount: Decimal
    stage: Stage
    payment_reference: str | None


@dataclass(frozen=True, slots=True)
class SkippedItem:
    item_id: int
    customer_id: str
    document_number: str
    stage: str
    reason: str  # one of SKIP_REASONS


@dataclass(slots=True)
class PlannedAction:
    customer_id: str
    customer_name: str
    stage: Stage
    plan: Plan
    items: list[DueItem]
    currency: str
    total: Decimal
    fee: Decimal
    interest: Decimal
    language: str
    risk_score: int
    priority: int
    email: str | None
    letter: letters.Letter | None = None


@dataclass(slots=True)
class DunningReport:
    run_date: dt.date
    dry_run: bool
    already_ran: bool = False
    actions: list[PlannedAction] = field(default_factory=list)
    skipped: list[SkippedItem] = field(default_factory=list)
    stored_actions: int = 0

    def skip_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(SKIP_REASONS, 0)
        for skip in self.skipped:
            counts[skip.reason] += 1
        return counts


def run_dunning(db: Database, settings: Settings, run_date: dt.date, *, dry_run: bool = False,
                actor: str = "system:dunning") -> DunningReport:
    plans = load_plans(settings.dunning.plans_file)
    with db.transaction() as session:
        existing = session.scalar(select(DunningRunRow).where(DunningRunRow.run_date == run_date))
        if existing is not None:
            count = session.scalar(select(func.count()).select_from(DunningActionRow).where(
                DunningActionRow.run_id == existing.id)) or 0
            return DunningReport(run_date, dry_run, already_ran=True, stored_actions=count)
        if not dry_run:
            promises.review_promises(session, run_date, actor=actor)
        report = plan_run(session, settings, plans, run_date, dry_run=dry_run)
        if not dry_run:
            _store(session, settings, report, actor)
        else:
            session.rollback()
    return report


def plan_run(session: Session, settings: Settings, plans: PlanBook, run_date: dt.date, *,
             dry_run: bool) -> DunningReport:
    """Decide the day's actions without writing anything."""
    report = DunningReport(run_date, dry_run)
    customers = {c.customer_id: c for c in session.scalars(select(CustomerRow))}
    states = {s.item_id: s for s in session.scalars(select(ItemDunningRow))}
    disputed = open_disputed_item_ids(session)
    promised = promises.promised_item_ids(session, run_date)
    pending_items, pending_customers = _pending_payments(session)
    unapplied = _unapplied_cash(session)
    scores = risk.scores_by_customer(session, run_date)

    due_by_customer: dict[str, list[DueItem]] = defaultdict(list)
    items = session.scalars(select(OpenItemRow).where(
        OpenItemRow.status.in_(("open", "disputed")), OpenItemRow.open_amount > 0,
        OpenItemRow.document_type == "invoice").order_by(OpenItemRow.customer_id,
                                                         OpenItemRow.due_date, OpenItemRow.id))
    for item in items:
        customer = customers.get(item.customer_id)
        plan = plans.plan_for(customer.segment if customer else None)
        state = states.get(item.id)
        stage = plan.next_stage(days_past_due=(run_date - item.due_date).days,
                                level=state.level if state else 0,
                                last_action=state.last_action_date if state else None,
                                today=run_date)
        if stage is None:
            continue
        reason = _skip_reason(item, disputed, promised, pending_items, pending_customers,
                              unapplied)
        if reason:
            report.skipped.append(SkippedItem(item.id, item.customer_id, item.document_number,
                                              stage.name, reason))
            continue
        due_by_customer[item.customer_id].append(DueItem(
            item.id, item.document_number, item.due_date, (run_date - item.due_date).days,
            item.open_amount, stage, item.payment_reference))

    for customer_id, due in sorted(due_by_customer.items()):
        customer = customers.get(customer_id)
        plan = plans.plan_for(customer.segment if customer else None)
        action = _plan_action(settings, plan, customer_id, customer, due, scores, states)
        if action is None:
            report.skipped.extend(SkippedItem(d.item_id, customer_id, d.document_number,
                                              d.stage.name, "below_minimum") for d in due)
            continue
        report.actions.append(action)
    # The worklist order: riskiest and largest first.
    report.actions.sort(key=lambda a: (-a.priority, -a.total, a.customer_id))
    return report


def _skip_reason(item: OpenItemRow, disputed: set[int], promised: set[int],
                 pending_items: set[tuple[str, str]], pending_customers: set[str],
                 unapplied: dict[str, Decimal]) -> str | None:
    if item.status == "disputed" or item.id in disputed:
        return "dispute"
    if item.id in promised:
        return "promise"
    if (item.entity, item.document_number) in pending_items or item.customer_id in \
            pending_customers:
        return "pending_match"
    available = unapplied.get(item.customer_id, Decimal(0))
    if available >= item.open_amount:
        # Cash already on the customer's account covers it: apply that, don't chase.
        unapplied[item.customer_id] = available - item.open_amount
        return "unapplied_cash"
    return None


def _plan_action(settings: Settings, plan: Plan, customer_id: str, customer: CustomerRow | None,
                 due: list[DueItem], scores: dict[str, risk.RiskScore],
                 states: dict[int, ItemDunningRow]) -> PlannedAction | None:
    total = sum((d.open_amount for d in due), Decimal(0))
    if total < plan.minimum_amount:
        return None
    stage = max((d.stage for d in due), key=lambda s: s.level)
    interest = sum((late_interest(d.open_amount, stage.interest_rate, d.days_overdue)
                    for d in due), Decimal(0))
    score = scores.get(customer_id)
    item_priority = max((states[d.item_id].priority for d in due if d.item_id in states),
                        default=0)
    language = letters.language_for(customer.language if customer else None,
                                    customer.country if customer else None)
    currency = (customer.currency if customer and customer.currency
                else settings.base_currency)
    action = PlannedAction(
        customer_id=customer_id, customer_name=customer.name if customer else customer_id,
        stage=stage, plan=plan, items=due, currency=currency, total=total, fee=stage.fee,
        interest=interest, language=language, risk_score=score.score if score else 0,
        priority=(score.score if score else 0) + item_priority,
        email=customer.email if customer else None)
    action.letter = letters.render(
        stage=stage.template, language=language, customer_name=action.customer_name,
        customer_id=customer_id,
        lines=[letters.LetterLine(d.document_number, d.due_date, d.days_overdue, d.open_amount)
               for d in due],
        currency=currency, our_iban=settings.dunning.creditor_iban or "-",
        payment_reference=_reference(customer_id, due), fee=stage.fee, interest=interest,
        sender=settings.dunning.sender_name)
    return action


def _reference(customer_id: str, due: list[DueItem]) -> str:
    """What the customer should quote: the item's own reference, else the document numbers."""
    if len(due) == 1 and due[0].payment_reference:
        return due[0].payment_reference
    return " ".join([customer_id, *[d.document_number for d in due[:6]]])


def _pending_payments(session: Session) -> tuple[set[tuple[str, str]], set[str]]:
    """Items named by a pending suggestion, and customers with an unreconciled payment from a
    known IBAN: either may mean the customer has already paid."""
    items: set[tuple[str, str]] = set()
    for allocations in session.scalars(select(ProposalRow.allocations).where(
            ProposalRow.state == "pending")):
        for allocation in allocations:
            items.add((str(allocation["entity"]), str(allocation["document_number"])))
    customers = set(session.scalars(
        select(CustomerRow.customer_id)
        .join(CustomerIbanRow, CustomerIbanRow.customer_pk == CustomerRow.id)
        .join(TransactionRow, TransactionRow.counterparty_iban == CustomerIbanRow.iban)
        .where(state_in(_OPEN_PAYMENT_STATES), TransactionRow.amount > 0)
    ))
    return items, customers


def _unapplied_cash(session: Session) -> dict[str, Decimal]:
    rows = session.execute(
        select(ApplicationRow.customer_id, func.sum(ApplicationLineRow.amount))
        .join(ApplicationLineRow, ApplicationLineRow.application_id == ApplicationRow.id)
        .where(ApplicationLineRow.kind == "unapplied", ApplicationRow.customer_id.is_not(None))
        .group_by(ApplicationRow.customer_id))
    # Reversals carry opposite-signed lines, so the sum is what is still on account.
    return {str(customer): Decimal(total) for customer, total in rows if total and total > 0}


def _store(session: Session, settings: Settings, report: DunningReport, actor: str) -> None:
    run = DunningRunRow(run_date=report.run_date, actor=actor)
    session.add(run)
    session.flush()
    for action in report.actions:
        letter = action.letter
        row = DunningActionRow(
            run_id=run.id, customer_id=action.customer_id, stage=action.stage.name,
            level=action.stage.level, channel=action.stage.channel, owner=action.plan.owner,
            segment=action.plan.name, language=action.language, currency=action.currency,
            total=action.total, fee=action.fee, interest=action.interest,
            items=[{"item_id": d.item_id, "document_number": d.document_number,
                    "due_date": d.due_date.isoformat(), "days_overdue": d.days_overdue,
                    "open_amount": f"{d.open_amount:f}", "stage": d.stage.name}
                   for d in action.items],
            risk_score=action.risk_score, priority=action.priority,
            subject=letter.subject if letter else "", body=letter.body if letter else "")
        session.add(row)
        session.flush()
        for due in action.items:
            state = session.get(ItemDunningRow, due.item_id)
            if state is None:
                state = ItemDunningRow(item_id=due.item_id, priority=0)
                session.add(state)
            state.level, state.stage = due.stage.level, due.stage.name
            state.last_action_date = report.run_date
        if action.stage.channel == "email" and action.email and letter is not None:
            session.add(EmailOutboxRow(action_id=row.id, recipient=action.email,
                                       subject=letter.subject, body=letter.body))
        journal.record(session, actor=actor, action="dunning.action",
                       subject=f"customer:{action.customer_id}",
                       reason=f"{action.stage.name} by {action.stage.channel}",
                       data={"run_date": report.run_date, "total": action.total,
                             "items": [d.document_number for d in action.items]})
    run.summary = {"actions": len(report.actions), "skipped": report.skip_counts()}
    journal.record(session, actor=actor, action="dunning.run", subject=f"dunning:{run.id}",
                   reason=f"run of {report.run_date.isoformat()}", data=dict(run.summary))
    report.stored_actions = len(report.actions)


def record_call_outcome(session: Session, action_id: int, outcome: str, *, actor: str,
                        note: str = "") -> None:
    """A phone task's outcome: promise (record it with `promises.record_promise`), dispute,
    or no answer."""
    from reconciler.errors import InputError, NotFoundError

    if outcome not in ("promise", "dispute", "no_answer", "paid", "other"):
        raise InputError(f"unknown call outcome {outcome!r}", where="outcome")
    action = session.get(DunningActionRow, action_id, with_for_update=True)
    if action is None:
        raise NotFoundError(f"dunning action {action_id} not found")
    action.outcome, action.outcome_note, action.status = outcome, note or None, "done"
    journal.record(session, actor=actor, action="dunning.outcome",
                   subject=f"customer:{action.customer_id}", reason=note or outcome,
                   data={"action": action_id, "outcome": outcome})
