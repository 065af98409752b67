"""Disputes: a customer contests an item; it leaves dunning and automatic matching meanwhile.

Reason codes follow the usual receivables taxonomy so that KPIs can say why cash is stuck.
Resolution decides what happens to the item: a credit note will come from the ERP (the item
stays until the ERP closes it), the dispute was rejected (the item is chased again), or the
customer paid.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from reconciler import journal
from reconciler.db.base import utcnow
from reconciler.db.collections import DisputeNoteRow, DisputeRow
from reconciler.db.ledger import OpenItemRow
from reconciler.errors import ConflictError, InputError, NotFoundError

REASON_CODES = ("pricing", "quantity", "quality", "not_delivered", "duplicate_invoice",
                "short_payment", "other")
RESOLUTIONS = ("credit_note", "rejected", "paid")


def open_dispute(session: Session, item_id: int, reason_code: str, *, actor: str,
                 note: str = "", owner: str | None = None, target_date: dt.date | None = None,
                 amount: Decimal | None = None, transaction_id: int | None = None) -> int:
    if reason_code not in REASON_CODES:
        raise InputError(f"unknown reason code {reason_code!r} (one of {', '.join(REASON_CODES)})",
                         where="reason_code")
    item = session.execute(
        select(OpenItemRow).where(OpenItemRow.id == item_id).with_for_update()
    ).scalar_one_or_none()
    if item is None:
        raise NotFoundError(f"open item {item_id} not found")
    existing = session.scalar(select(DisputeRow.id).where(
        DisputeRow.item_id == item_id, DisputeRow.status == "open"))
    if existing is not None:
        raise ConflictError(f"item {item.document_number} is already in dispute #{existing}")
    dispute = DisputeRow(item_id=item_id, customer_id=item.customer_id, reason_code=reason_code,
                         owner=owner, target_date=target_date or (dt.date.today()
                                                                  + dt.timedelta(days=14)),
                         amount=amount, source_transaction_id=transaction_id, opened_by=actor,
                         item_status_before=item.status)
    session.add(dispute)
    if item.status == "open":
        item.status = "disputed"
    session.flush()
    if note:
        session.add(DisputeNoteRow(dispute_id=dispute.id, author=actor, text=note))
    journal.record(session, actor=actor, action="dispute.opened", subject=f"item:{item.entity}/"
                   f"{item.document_number}", reason=note or reason_code,
                   data={"dispute": dispute.id, "reason_code": reason_code,
                         "amount": amount, "transaction": transaction_id})
    return dispute.id


def add_note(session: Session, dispute_id: int, text: str, *, actor: str) -> None:
    dispute = _get(session, dispute_id)
    if not text.strip():
        raise InputError("a note needs text", where="text")
    session.add(DisputeNoteRow(dispute_id=dispute.id, author=actor, text=text.strip()))
    journal.record(session, actor=actor, action="dispute.note", subject=f"dispute:{dispute_id}",
                   reason=text.strip())


def resolve_dispute(session: Session, dispute_id: int, resolution: str, *, actor: str,
                    note: str = "") -> None:
    if resolution not in RESOLUTIONS:
        raise InputError(f"unknown resolution {resolution!r} (one of {', '.join(RESOLUTIONS)})",
                         where="resolution")
    dispute = _get(session, dispute_id)
    if dispute.status != "open":
        raise ConflictError(f"dispute #{dispute_id} is already resolved")
    dispute.status, dispute.resolution = "resolved", resolution
    dispute.resolved_by, dispute.resolved_at = actor, utcnow()
    item = session.get(OpenItemRow, dispute.item_id, with_for_update=True)
    if item is not None and item.status == "disputed":
        # Back into matching and dunning; an item settled meanwhile stays closed.
        item.status = "closed" if item.open_amount == 0 else "open"
    journal.record(session, actor=actor, action="dispute.resolved",
                   subject=f"dispute:{dispute_id}", reason=note or resolution,
                   data={"resolution": resolution, "item": dispute.item_id})


def _get(session: Session, dispute_id: int) -> DisputeRow:
    dispute = session.get(DisputeRow, dispute_id, with_for_update=True)
    if dispute is None:
        raise NotFoundError(f"dispute {dispute_id} not found")
    return dispute


def open_disputed_item_ids(session: Session) -> set[int]:
    return set(session.scalars(select(DisputeRow.item_id).where(DisputeRow.status == "open")))


# Words customers put in the remittance text when they pay short on purpose, by reason code.
# A short payment whose text carries one of them is a dispute, not a bank charge.
_REASON_WORDS: dict[str, tuple[str, ...]] = {
    "pricing": ("price", "pricing", "preis", "prix", "prijs", "overcharg", "rabatt", "discount"),
    "quantity": ("quantity", "menge", "quantite", "quantité", "aantal", "short delivery",
                 "teillieferung", "missing items"),
    "quality": ("damaged", "defect", "defekt", "beschädigt", "mangel", "quality", "qualität",
                "qualite", "qualité", "kapot", "broken"),
    "not_delivered": ("not delivered", "nicht geliefert", "non livré", "non livre",
                      "niet geleverd", "not received"),
    "duplicate_invoice": ("duplicate", "doppelt", "double facturation", "dubbel"),
}


def reason_from_text(text: str | None) -> str | None:
    """The dispute reason a customer gave in the payment text, if any."""
    lowered = (text or "").casefold()
    for code, words in _REASON_WORDS.items():
        if any(word in lowered for word in words):
            return code
    return None


def open_from_short_payment(session: Session, item_id: int, shortfall: Decimal,
                            remittance_text: str | None, *, transaction_id: int,
                            actor: str) -> int | None:
    """Open a dispute when a payment is short beyond tolerance and the customer said why.

    Returns the dispute id, or None when the text gives no reason (then the shortfall is an
    ordinary partial payment and the item stays in dunning for the rest).
    """
    code = reason_from_text(remittance_text)
    if code is None:
        return None
    existing = session.scalar(select(DisputeRow.id).where(
        DisputeRow.item_id == item_id, DisputeRow.status == "open"))
    if existing is not None:
        return existing
    return open_dispute(session, item_id, code, actor=actor, amount=shortfall,
                        transaction_id=transaction_id,
                        note=f"short payment of {shortfall}: {(remittance_text or '')[:200]}")
