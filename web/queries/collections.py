"""Reads for the collections pages: the dunning worklist, one action, open disputes, KPIs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reconciler import kpis, risk
from reconciler.db.collections import (
    DisputeNoteRow,
    DisputeRow,
    DunningActionRow,
    KpiSnapshotRow,
)
from reconciler.db.ledger import CustomerRow, OpenItemRow
from reconciler.errors import InputError, NotFoundError
from reconciler.risk import RiskScore

WORKLIST_LIMIT = 200
FILTER_KEYS = ("stage", "segment", "owner", "risk_class")
KPI_DIMENSIONS = tuple(kpis.DIMENSIONS)
# Channels where a person talks to the customer and records what was agreed.
CALL_CHANNELS = ("phone", "task")


@dataclass(frozen=True, slots=True)
class WorklistRow:
    action: DunningActionRow
    customer_name: str | None
    risk: RiskScore | None


@dataclass(frozen=True, slots=True)
class WorklistFilters:
    stages: list[str]
    segments: list[str]
    owners: list[str]
    risk_classes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DisputeView:
    row: DisputeRow
    document_number: str
    entity: str
    customer_name: str | None
    open_amount: Decimal | None
    currency: str | None
    age_days: int
    notes: list[DisputeNoteRow]


def _names(session: Session, customer_ids: set[str]) -> dict[str, str]:
    if not customer_ids:
        return {}
    rows = session.execute(select(CustomerRow.customer_id, CustomerRow.name)
                           .where(CustomerRow.customer_id.in_(customer_ids)))
    return {customer_id: name for customer_id, name in rows}


def worklist(session: Session, args: Mapping[str, str], as_of: dt.date) -> list[WorklistRow]:
    """Due actions, the highest priority first (a broken promise raises it), then the largest
    total: the collector's time goes where the most money is most at risk."""
    query = select(DunningActionRow).where(DunningActionRow.status == "due")
    for key, column in (("stage", DunningActionRow.stage), ("segment", DunningActionRow.segment),
                        ("owner", DunningActionRow.owner)):
        value = (args.get(key) or "").strip()
        if value:
            query = query.where(column == value)
    query = query.order_by(DunningActionRow.priority.desc(), DunningActionRow.total.desc(),
                           DunningActionRow.id)
    risk_class = (args.get("risk_class") or "").strip()
    if risk_class and risk_class not in risk_classes():
        raise InputError(f"unknown risk class {risk_class!r}", where="risk_class")
    if not risk_class:
        query = query.limit(WORKLIST_LIMIT)  # the risk class is only known after scoring
    actions = list(session.scalars(query))
    scores = risk.scores_by_customer(session, as_of) if actions else {}
    names = _names(session, {a.customer_id for a in actions})
    rows = [WorklistRow(a, names.get(a.customer_id), scores.get(a.customer_id)) for a in actions]
    if risk_class:
        rows = [r for r in rows if r.risk is not None and r.risk.risk_class == risk_class]
    return rows[:WORKLIST_LIMIT]


def risk_classes() -> tuple[str, ...]:
    return tuple(name for _, name in risk.CLASSES)


def worklist_filters(session: Session) -> WorklistFilters:
    def distinct(column: Any) -> list[str]:
        return sorted(v for v in session.scalars(
            select(column).where(DunningActionRow.status == "due").distinct()) if v)

    return WorklistFilters(distinct(DunningActionRow.stage), distinct(DunningActionRow.segment),
                           distinct(DunningActionRow.owner), risk_classes())


def action(session: Session, action_id: int) -> DunningActionRow:
    row = session.get(DunningActionRow, action_id)
    if row is None:
        raise NotFoundError(f"dunning action {action_id} not found")
    return row


def action_item_ids(row: DunningActionRow) -> list[int]:
    return [int(str(item["item_id"])) for item in row.items]


def customer_name(session: Session, customer_id: str) -> str | None:
    return _names(session, {customer_id}).get(customer_id)


def open_disputes(session: Session, today: dt.date) -> list[DisputeView]:
    """Open disputes, the oldest target date first: those are the ones about to be late."""
    rows = session.execute(
        select(DisputeRow, OpenItemRow)
        .join(OpenItemRow, OpenItemRow.id == DisputeRow.item_id)
        .where(DisputeRow.status == "open")
        .order_by(DisputeRow.target_date, DisputeRow.id)).all()
    names = _names(session, {d.customer_id for d, _ in rows})
    notes: dict[int, list[DisputeNoteRow]] = {d.id: [] for d, _ in rows}
    if notes:
        for note in session.scalars(select(DisputeNoteRow).where(
                DisputeNoteRow.dispute_id.in_(notes)).order_by(DisputeNoteRow.id)):
            notes[note.dispute_id].append(note)
    return [DisputeView(d, item.document_number, item.entity, names.get(d.customer_id),
                        item.open_amount, item.currency,
                        (today - d.opened_at.date()).days, notes[d.id]) for d, item in rows]


def dso_history(session: Session, limit: int = 60) -> list[tuple[dt.date, Decimal | None]]:
    """DSO from the daily KPI snapshots (whole book), oldest first."""
    rows = session.execute(
        select(KpiSnapshotRow.as_of, KpiSnapshotRow.figures)
        .where(KpiSnapshotRow.dimension == "all", KpiSnapshotRow.value == "")
        .order_by(KpiSnapshotRow.as_of.desc()).limit(limit)).all()
    history = []
    for as_of, figures in reversed(rows):
        value = figures.get("dso") if isinstance(figures, dict) else None
        history.append((as_of, Decimal(str(value)) if value is not None else None))
    return history


def read_as_of(text: str | None, today: dt.date) -> dt.date:
    if not text or not text.strip():
        return today
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"not a date (YYYY-MM-DD): {text!r}", where="as_of") from None


def read_dimension(text: str | None) -> str | None:
    if not text or not text.strip():
        return None
    if text not in KPI_DIMENSIONS:
        raise InputError(f"unknown dimension {text!r} (one of {', '.join(KPI_DIMENSIONS)})",
                         where="by")
    return text


def kpi_figures(session: Session, as_of: dt.date, by: str | None
                ) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    data = kpis.load(session)
    whole = kpis.compute(data, as_of)
    groups = kpis.compute_by(data, as_of, by) if by else {}
    return whole, groups


def flat_figures(figures: Mapping[str, Any]) -> dict[str, Any]:
    """One column per figure: the aged balance's buckets become `aged_balance.<bucket>`."""
    flat: dict[str, Any] = {}
    for key, value in figures.items():
        if key in ("as_of", "period_days"):
            continue
        if isinstance(value, Mapping):
            for inner, amount in value.items():
                flat[f"{key}.{inner}"] = amount
        else:
            flat[key] = value
    return flat
