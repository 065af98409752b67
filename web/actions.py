"""State changes requested from the UI or API: one decision, one database transaction.

Each function checks who may do it (roles, the four-eyes rule) with `reconciler.users`, then
calls the service in `reconciler`; the services write the journal in the same transaction.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from reconciler import applying, learning, users
from reconciler.db.matching import ApplicationRow
from reconciler.domain import Adjustment, AdjustmentKind, Allocation
from reconciler.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError
from reconciler.money import ZERO
from reconciler.statements import FileImportResult
from reconciler.users import User
from web import context


def accept(user: User, proposal_id: int) -> int:
    users.require_role(user, "reviewer", "accepting a suggestion")
    with context.database().transaction() as s:
        return applying.accept_proposal(s, proposal_id, actor=user.actor,
                                        approver=user.has_role("approver"),
                                        settings=context.settings().matching)


def reject(user: User, proposal_id: int, reason: str) -> None:
    users.require_role(user, "reviewer", "rejecting a suggestion")
    with context.database().transaction() as s:
        applying.reject_proposal(s, proposal_id, actor=user.actor,
                                 reason=reason or "rejected in review")


def apply_manual(user: User, transaction_id: int, allocations: Sequence[Allocation],
                 adjustments: Sequence[Adjustment], reason: str,
                 customer_id: str | None = None) -> int:
    users.require_role(user, "reviewer", "matching by hand")
    limit = context.settings().matching.write_off_limit
    for adjustment in adjustments:
        if adjustment.kind is AdjustmentKind.WRITE_OFF:
            users.authorize_write_off(user, adjustment.amount, limit)
    with context.database().transaction() as s:
        return applying.apply_manual(s, transaction_id, allocations, adjustments,
                                     actor=user.actor, reason=reason, customer_id=customer_id,
                                     approver=user.has_role("approver"),
                                     settings=context.settings().matching)


def apply_edited(user: User, proposal_id: int, allocations: Sequence[Allocation],
                 adjustments: Sequence[Adjustment], reason: str) -> int:
    """A suggestion accepted with changed amounts, items or adjustments: a manual application
    of the transaction; the suggestion itself is superseded by the service."""
    from reconciler.db.matching import ProposalRow

    with context.database().session() as s:
        row = s.get(ProposalRow, proposal_id)
        if row is None:
            raise NotFoundError(f"proposal {proposal_id} does not exist")
        if row.state != "pending":
            raise ConflictError(f"proposal {proposal_id} is {row.state}, not pending")
        transaction_id, customer_id = row.transaction_id, row.customer_id
    note = reason or f"edited suggestion {proposal_id}"
    return apply_manual(user, transaction_id, allocations, adjustments, note, customer_id)


@dataclass(frozen=True, slots=True)
class BulkResult:
    accepted: tuple[int, ...]
    skipped: tuple[tuple[int, str], ...]


def bulk_accept(user: User, proposal_ids: Sequence[int]) -> BulkResult:
    """Accept each suggestion in its own transaction: one stale line does not undo the rest."""
    users.require_role(user, "reviewer", "accepting suggestions")
    accepted: list[int] = []
    skipped: list[tuple[int, str]] = []
    for proposal_id in proposal_ids:
        try:
            accept(user, proposal_id)
            accepted.append(proposal_id)
        except (ConflictError, NotFoundError, PermissionDeniedError) as exc:
            skipped.append((proposal_id, str(exc)))
    return BulkResult(tuple(accepted), tuple(skipped))


def put_on_account(user: User, transaction_id: int, customer_id: str, reason: str) -> int:
    users.require_role(user, "reviewer", "putting a payment on account")
    with context.database().transaction() as s:
        return applying.put_on_account(s, transaction_id, customer_id, actor=user.actor,
                                       reason=reason)


def mark_not_receivable(user: User, transaction_id: int, reason: str) -> None:
    users.require_role(user, "reviewer", "marking a line as not receivables")
    with context.database().transaction() as s:
        applying.mark_not_receivable(s, transaction_id, actor=user.actor, reason=reason)


def reverse(user: User, application_id: int, reason: str) -> int:
    with context.database().transaction() as s:
        row = s.scalar(select(ApplicationRow).where(ApplicationRow.id == application_id))
        if row is None:
            raise NotFoundError(f"application {application_id} does not exist")
        users.authorize_reversal(user, row.actor, row.proposed_by)
        return applying.reverse_application(s, application_id, actor=user.actor, reason=reason)


def remove_evidence(user: User, evidence_id: int, reason: str) -> None:
    users.require_role(user, "reviewer", "removing learned evidence")
    with context.database().transaction() as s:
        learning.remove_evidence(s, evidence_id, actor=user.actor, reason=reason)


def disputes_available() -> bool:
    """Disputes come from the collections slice; the button shows only where it is installed."""
    return importlib.util.find_spec("reconciler.disputes") is not None


def dispute_reasons() -> tuple[str, ...]:
    if not disputes_available():
        return ()
    from reconciler import disputes

    return tuple(getattr(disputes, "REASON_CODES", ("other",)))


def open_dispute(user: User, item_ids: Sequence[int], reason_code: str, note: str,
                 transaction_id: int | None = None) -> list[int]:
    users.require_role(user, "reviewer", "opening a dispute")
    if not disputes_available():
        raise NotFoundError("disputes are not installed in this build")
    from reconciler import disputes

    with context.database().transaction() as s:
        return [disputes.open_dispute(s, item_id, reason_code, actor=user.actor, note=note,
                                      transaction_id=transaction_id) for item_id in item_ids]


def import_statement(user: User, upload: FileStorage | None) -> FileImportResult:
    """A bank file uploaded by hand: the same import as `recon import statement`."""
    users.require_role(user, "reviewer", "importing a bank file")
    if upload is None or not upload.filename:
        raise InputError("choose a bank file to upload", where="file")
    data = upload.read()
    if not data:
        raise InputError(f"{upload.filename} is empty", where="file")
    from reconciler.statements import MB, import_file

    return import_file(context.database(), data, upload.filename, source="web",
                       actor=user.actor, max_bytes=context.settings().max_file_mb * MB)


def balance_of(allocations: Sequence[Allocation], adjustments: Sequence[Adjustment]) -> Decimal:
    return sum((a.amount for a in allocations), ZERO) + sum((a.amount for a in adjustments), ZERO)
