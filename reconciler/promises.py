"""Promises to pay: dunning of the promised items pauses until the promised date.

A promise is kept when the items' open amount fell by at least the promised amount by the
date (checked the day after); otherwise it is broken, which raises the items' priority so
that the worklist puts that customer first.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from reconciler import journal
from reconciler.db.base import utcnow
from reconciler.db.collections import ItemDunningRow, PromiseRow
from reconciler.db.ledger import OpenItemRow
from reconciler.errors import InputError, NotFoundError

BROKEN_PROMISE_PRIORITY = 10


def record_promise(session: Session, customer_id: str, item_ids: list[int], amount: Decimal,
                   promised_date: dt.date, *, actor: str, today: dt.date | None = None) -> int:
    today = today or dt.date.today()
    if amount <= 0:
        raise InputError("a promised amount must be positive", where="amount")
    if promised_date < today:
        raise InputError("the promised date is in the past", where="promised_date")
    items = session.scalars(select(OpenItemRow).where(OpenItemRow.id.in_(item_ids))).all()
    if len(items) != len(set(item_ids)) or not items:
        raise NotFoundError("a promised item does not exist")
    if any(item.customer_id != customer_id for item in items):
        raise InputError("every promised item must belong to the customer", where="item_ids")
    open_total = sum((item.open_amount for item in items), Decimal(0))
    promise = PromiseRow(customer_id=customer_id, item_ids=sorted(set(item_ids)), amount=amount,
                         promised_date=promised_date, created_by=actor)
    session.add(promise)
    session.flush()
    journal.record(session, actor=actor, action="promise.recorded",
                   subject=f"customer:{customer_id}",
                   reason=f"pay {amount} by {promised_date.isoformat()}",
                   data={"promise": promise.id, "items": sorted(set(item_ids)),
                         "open_total": open_total})
    return promise.id


def review_promises(session: Session, today: dt.date, *, actor: str = "system:dunning") -> dict[
        str, int]:
    """Close promises whose date has passed: kept if the items were paid down enough."""
    counts = {"kept": 0, "broken": 0}
    due = session.scalars(select(PromiseRow).where(
        PromiseRow.status == "open", PromiseRow.promised_date < today)).all()
    for promise in due:
        items = session.scalars(select(OpenItemRow).where(
            OpenItemRow.id.in_(promise.item_ids))).all()
        paid = sum((item.amount - item.open_amount for item in items), Decimal(0))
        kept = paid >= promise.amount or all(item.open_amount <= 0 for item in items)
        promise.status = "kept" if kept else "broken"
        promise.closed_at = utcnow()
        if not kept:
            for item in items:
                state = session.get(ItemDunningRow, item.id)
                if state is None:
                    state = ItemDunningRow(item_id=item.id, level=0, priority=0)
                    session.add(state)
                state.priority = (state.priority or 0) + BROKEN_PROMISE_PRIORITY
        counts[promise.status] += 1
        journal.record(session, actor=actor, action=f"promise.{promise.status}",
                       subject=f"customer:{promise.customer_id}",
                       reason=f"promised {promise.amount} by {promise.promised_date}",
                       data={"promise": promise.id, "paid": paid})
    return counts


def promised_item_ids(session: Session, today: dt.date) -> set[int]:
    """Items under an open promise whose date has not passed."""
    ids: set[int] = set()
    for item_ids in session.scalars(select(PromiseRow.item_ids).where(
            PromiseRow.status == "open", PromiseRow.promised_date >= today)):
        ids.update(item_ids)
    return ids
