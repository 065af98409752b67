"""The matching run: every unreconciled credit line through the matcher chain, once.

1. Read a snapshot of the ledger (open items, customers, learned evidence) and build ONE
   candidate view for the whole run; read the lines to decide (unreconciled, suggested and
   unmatched credits: a new invoice or a lesson learned may match an old line now).
2. Run the chain on each line; proposals are validated here (the engine does not trust
   plug-ins) and what a reviewer rejected before is not proposed again.
3. Settle conflicts across lines (`reconciler.conflicts`), then let the rules decide.
4. Write: an automatic application per line in its own database transaction (claimed with
   `FOR UPDATE SKIP LOCKED`, items re-checked under lock: a change sends the line to review);
   suggestions as ranked proposals; the rest to the exception queue. A dry run writes nothing.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from matchers.candidates import CandidateView, LearnedLink
from matchers.registry import load_registry
from reconciler import __version__, journal
from reconciler.applying import apply_claimed, claim_transaction
from reconciler.conflicts import Resolution, resolve
from reconciler.db.base import utcnow
from reconciler.db.matching import MatchRunRow, ProposalRow
from reconciler.db.session import Database
from reconciler.domain import (
    AdjustmentKind,
    Decision,
    Diagnostic,
    ItemKey,
    OpenItem,
    Payment,
    Proposal,
    Severity,
)
from reconciler.errors import ReconError
from reconciler.money import ZERO, format_amount
from reconciler.progress import Progress
from reconciler.settings import Settings
from reconciler.snapshot import Snapshot, load_snapshot
from rules.decision import decide

MAX_ALTERNATIVES = 5  # ranked proposals kept per line for review
WRITE_BATCH = 200  # suggestions / unmatched lines written per database transaction
APPLY_WORKERS = 8  # concurrent automatic applications on PostgreSQL


@dataclass(frozen=True, slots=True)
class LineOutcome:
    """What the run decided for one bank line (what `--dry-run` prints)."""

    transaction_id: int
    bank_reference: str
    amount: Decimal
    currency: str
    decision: Decision
    items: tuple[str, ...]
    confidence: float | None
    matcher: str | None
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MatchSummary:
    lines: int
    auto: int
    suggested: int
    unmatched: int
    seconds: float
    diagnostics: tuple[Diagnostic, ...] = ()
    outcomes: tuple[LineOutcome, ...] = ()
    dry_run: bool = False
    run_id: int | None = None
    skipped: int = 0  # lines another worker was deciding, or decided meanwhile
    phases: tuple[tuple[str, float], ...] = ()  # (phase, seconds): where the time went

    @property
    def auto_rate(self) -> float:
        return self.auto / self.lines if self.lines else 0.0

    @property
    def suggested_rate(self) -> float:
        return self.suggested / self.lines if self.lines else 0.0

    @property
    def unmatched_rate(self) -> float:
        return self.unmatched / self.lines if self.lines else 0.0

    def as_dict(self) -> dict[str, object]:
        return {"lines": self.lines, "auto": self.auto, "suggested": self.suggested,
                "unmatched": self.unmatched, "skipped": self.skipped,
                "seconds": round(self.seconds, 3), "dry_run": self.dry_run,
                "diagnostics": len(self.diagnostics)}


@dataclass(slots=True)
class _Line:
    payment: Payment
    proposals: tuple[Proposal, ...] = ()
    notes: tuple[str, ...] = ()
    decision: Decision = Decision.UNMATCHED
    reasons: list[str] = field(default_factory=list)
    applied: bool = False


def run_matching(db: Database, settings: Settings, *, dry_run: bool = False,
                 progress: Progress | None = None, registry: Any = None) -> MatchSummary:
    """Match every open credit line; returns what was (or, in a dry run, would be) done."""
    started = time.monotonic()
    phases = _Phases()
    registry = registry if registry is not None else load_registry(settings.matching)
    with db.session() as session:
        snapshot = load_snapshot(session)
    phases.done("read")
    view = CandidateView.build(snapshot.customers, snapshot.items,
                               [LearnedLink(k, v, c) for k, v, c in snapshot.learned],  # type: ignore[arg-type]
                               snapshot.closed_items)
    snapshot.items, snapshot.closed_items = [], []  # the view holds them now
    phases.done("index")
    diagnostics: list[Diagnostic] = list(snapshot.diagnostics)
    progress = progress or Progress("matching", len(snapshot.payments), unit="lines")
    candidates: dict[int, tuple[Proposal, ...]] = {}
    for payment in snapshot.payments:
        proposals, found = registry.run(payment, view)
        diagnostics.extend(found)
        candidates[payment.id] = _validated(payment, proposals, view, snapshot, diagnostics)
        progress.advance()
    progress.close()
    phases.done("match")
    resolutions = resolve(candidates, _OpenAmounts(view),
                          {payment.id: payment.value_date for payment in snapshot.payments})
    lines = [_decided(payment, resolutions[payment.id], settings) for payment in snapshot.payments]
    phases.done("resolve + decide")
    run_id: int | None = None
    skipped = 0
    if not dry_run:
        run_id = _start_run(db)
        writing = Progress("writing", len(lines), stream=progress.stream, unit="lines")
        skipped = _write(db, settings, registry, lines, run_id, view, writing)
        writing.close()
        phases.done("write")
    outcomes = tuple(_outcome(line) for line in lines)
    summary = MatchSummary(
        lines=len(lines), auto=sum(o.decision is Decision.AUTO for o in outcomes),
        suggested=sum(o.decision is Decision.SUGGEST for o in outcomes),
        unmatched=sum(o.decision is Decision.UNMATCHED for o in outcomes),
        seconds=time.monotonic() - started, diagnostics=tuple(diagnostics), outcomes=outcomes,
        dry_run=dry_run, run_id=run_id, skipped=skipped, phases=tuple(phases.seconds))
    if run_id is not None:
        with db.transaction() as session:
            session.execute(update(MatchRunRow).where(MatchRunRow.id == run_id)
                            .values(finished_at=utcnow(), summary=summary.as_dict()))
    return summary


class _Phases:
    def __init__(self) -> None:
        self.seconds: list[tuple[str, float]] = []
        self._last = time.monotonic()

    def done(self, name: str) -> None:
        now = time.monotonic()
        self.seconds.append((name, now - self._last))
        self._last = now


# --- validation -----------------------------------------------------------------------------


class _OpenAmounts(Mapping[ItemKey, Decimal]):
    """The view's open amounts as a mapping, without a second copy of a million items."""

    def __init__(self, view: CandidateView) -> None:
        self._view = view

    def __getitem__(self, key: ItemKey) -> Decimal:
        item = self._view.item(key)
        if item is None:
            raise KeyError(key)
        return item.open_amount

    def __iter__(self) -> Iterator[ItemKey]:
        raise TypeError("open amounts are looked up, not listed")

    def __len__(self) -> int:
        return len(self._view)


def _validated(payment: Payment, proposals: Iterable[Proposal], view: CandidateView,
               snapshot: Snapshot, diagnostics: list[Diagnostic]) -> tuple[Proposal, ...]:
    """Drop what breaks an invariant (diagnostic), what repeats, and what a person rejected."""
    kept: list[Proposal] = []
    seen: set[tuple[object, ...]] = set()
    rejected = snapshot.rejected.get(payment.id, ())
    for proposal in sorted(proposals, key=lambda p: -p.confidence):
        problem = _problem(payment, proposal, view)
        if problem:
            diagnostics.append(Diagnostic(
                Severity.WARNING, f"proposal of matcher {proposal.matcher} dropped: {problem}",
                where=f"payment {payment.id} ({payment.bank_reference})",
                code="invalid-proposal"))
            continue
        signature = (tuple(sorted((a.item, a.amount, a.discount) for a in proposal.allocations)),
                     tuple(sorted((a.kind.value, a.amount) for a in proposal.adjustments)))
        if signature in seen or proposal.item_keys in rejected:
            continue
        seen.add(signature)
        kept.append(proposal)
    return tuple(kept)


def _problem(payment: Payment, proposal: Proposal, view: CandidateView) -> str:
    if proposal.payment_id != payment.id:
        return f"it is for payment {proposal.payment_id}"
    if not 0.0 <= proposal.confidence <= 1.0:
        return f"confidence {proposal.confidence} outside [0, 1]"
    if not proposal.allocations and not any(a.kind is AdjustmentKind.UNAPPLIED
                                            for a in proposal.adjustments):
        return "it settles nothing"
    if proposal.allocated + proposal.adjusted != payment.amount:
        return (f"allocated {format_amount(proposal.allocated)} + adjustments "
                f"{format_amount(proposal.adjusted)} != amount {format_amount(payment.amount)}")
    if len(proposal.item_keys) != len(proposal.allocations):
        return "an item appears twice"
    for allocation in proposal.allocations:
        item = view.item(allocation.item)
        if item is None:
            return f"item {allocation.item} is not open"
        if item.currency != payment.currency:
            return f"item {allocation.item} is in {item.currency}"
        settled, owed = allocation.settled, item.open_amount
        if settled == ZERO or (settled > ZERO) != (owed > ZERO) or abs(settled) > abs(owed):
            return f"{format_amount(settled)} on {allocation.item} open for {format_amount(owed)}"
    return ""


# --- decision -------------------------------------------------------------------------------


def _decided(payment: Payment, resolution: Resolution, settings: Settings) -> _Line:
    line = _Line(payment, resolution.proposals[:MAX_ALTERNATIVES],
                 resolution.notes[:MAX_ALTERNATIVES])
    if not line.proposals:
        line.reasons.append("no matcher found a candidate")
        return line
    verdict = decide(list(line.proposals), settings.matching)
    line.decision = verdict.decision
    line.reasons.extend(verdict.reasons)
    if line.decision is Decision.AUTO and resolution.contested:
        line.decision = Decision.SUGGEST
        line.reasons.append(f"not automatic: {resolution.contest_reason}")
    if line.decision is Decision.UNMATCHED and resolution.contested:
        line.decision = Decision.SUGGEST  # a person should see why the items went elsewhere
        line.reasons.append(resolution.contest_reason)
    return line


def _outcome(line: _Line) -> LineOutcome:
    best = line.proposals[0] if line.proposals and line.decision is not Decision.UNMATCHED \
        else None
    return LineOutcome(
        transaction_id=line.payment.id, bank_reference=line.payment.bank_reference or "",
        amount=line.payment.amount, currency=line.payment.currency, decision=line.decision,
        items=tuple(str(a.item) for a in best.allocations) if best else (),
        confidence=best.confidence if best else None, matcher=best.matcher if best else None,
        reasons=tuple(line.reasons))


def explain(proposal: Proposal, rank: int, best: Proposal, note: str,
            reasons: Sequence[str]) -> str:
    """The evidence in words: what the matcher saw, and why an alternative ranks lower."""
    parts = [f"{proposal.matcher} (confidence {proposal.confidence:.2f})"]
    if proposal.explanation:  # the matcher's own account of its evidence
        parts.append(proposal.explanation)
    else:
        parts.extend(f"{e.kind}: {e.detail}" for e in proposal.evidence)
    currency = proposal.currency
    settles = ", ".join(f"{a.item} {format_amount(a.amount, currency)}"
                        + (f" + discount {format_amount(a.discount, currency)}"
                           if a.discount else "")
                        for a in proposal.allocations)
    if settles:
        parts.append(f"settles {settles}")
    parts.extend(f"{a.kind.value} {format_amount(a.amount, currency)}"
                 for a in proposal.adjustments)
    if note:
        parts.append(note)
    if rank == 1:
        parts.extend(reasons)
    else:
        parts.append(f"ranked #{rank}: confidence {proposal.confidence:.2f} against "
                     f"{best.confidence:.2f} of #1 ({best.matcher})")
    return "; ".join(p for p in parts if p)


# --- writing --------------------------------------------------------------------------------


def _start_run(db: Database) -> int:
    """Record the run in the table and the journal."""
    with db.transaction() as session:
        run = MatchRunRow(dry_run=False)
        session.add(run)
        session.flush()
        journal.record(session, actor=f"matcher:engine@{__version__}",
                       action="match.started", subject=f"run:{run.id}")
        return run.id


def _actor(registry: Any, matcher: str) -> str:
    """`matcher:<name>@<version>`, the journal's actor for an automatic application."""
    named = getattr(registry, "actor", None)
    if callable(named):
        return str(named(matcher))
    return f"matcher:{matcher}@{__version__}"


def _write(db: Database, settings: Settings, registry: Any, lines: Sequence[_Line],
           run_id: int, view: CandidateView, progress: Progress) -> int:
    """Automatic applications first (each its own database transaction), then the rest."""
    groups = _groups_sharing_items([line for line in lines if line.decision is Decision.AUTO])
    skipped = 0
    # On PostgreSQL each commit waits for its WAL flush; commits of concurrent sessions share
    # one flush, so independent groups are applied by several workers at once. SQLite has a
    # single writer and no flush per commit: one worker.
    workers = APPLY_WORKERS if db.is_postgres and len(groups) > 1 else 1
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for outcomes in pool.map(lambda group: _apply_group(db, settings, registry, group, view),
                                 groups):
            skipped += outcomes.count("skipped")
            progress.advance(len(outcomes))
    to_review = [line for line in lines if line.decision is not Decision.AUTO]
    for start in range(0, len(to_review), WRITE_BATCH):
        batch = to_review[start:start + WRITE_BATCH]
        skipped += _store_for_review(db, batch, run_id)
        progress.advance(len(batch))
    return skipped


def _groups_sharing_items(lines: Sequence[_Line]) -> list[list[_Line]]:
    """Lines whose applications touch a common item (partial payments of one invoice) go in
    one group, applied one after the other; every other line is a group of its own."""
    owner: dict[ItemKey, int] = {}
    groups: dict[int, list[_Line]] = {}
    for index, line in enumerate(lines):
        keys = line.proposals[0].item_keys
        joined = sorted({owner[k] for k in keys if k in owner})
        target = joined[0] if joined else index
        members = groups.setdefault(target, [])
        for other in joined[1:]:
            for moved in groups.pop(other):
                members.append(moved)
                for key in moved.proposals[0].item_keys:
                    owner[key] = target
        members.append(line)
        for key in keys:
            owner[key] = target
    return [sorted(group, key=lambda line: line.payment.id) for group in groups.values()]


def _apply_group(db: Database, settings: Settings, registry: Any, group: Sequence[_Line],
                 view: CandidateView) -> list[str]:
    consumed: dict[ItemKey, Decimal] = {}  # settled by earlier lines of this group, this run
    outcomes = []
    for line in group:
        outcome = _apply_automatically(db, settings, registry, line, view, consumed)
        if outcome == "applied":
            for allocation in line.proposals[0].allocations:
                consumed[allocation.item] = consumed.get(allocation.item, ZERO) \
                    + allocation.settled
        outcomes.append(outcome)
    return outcomes


def _apply_automatically(db: Database, settings: Settings, registry: Any, line: _Line,
                         view: CandidateView, consumed: Mapping[ItemKey, Decimal]) -> str:
    proposal = line.proposals[0]
    seen = {key: item.open_amount - consumed.get(key, ZERO) for key in proposal.item_keys
            if (item := view.item(key)) is not None}
    actor = _actor(registry, proposal.matcher)
    explanation = explain(proposal, 1, proposal, line.notes[0], line.reasons)
    applied = dataclasses.replace(proposal, explanation=explanation)
    try:
        with db.transaction() as session:
            if apply_claimed(session, applied, actor=actor, settings=settings.matching,
                             expected_open=seen) is None:
                return "skipped"
    except ReconError as exc:
        # Someone changed the items since the snapshot, or the proposal breaks a rule that
        # only the stored data shows: a person looks at it instead.
        line.decision = Decision.SUGGEST
        line.reasons.append(f"not applied automatically: {exc}")
        return "review"
    line.applied = True
    return "applied"


def _store_for_review(db: Database, lines: Sequence[_Line], run_id: int) -> int:
    skipped = 0
    with db.transaction() as session:
        pending = _pending_signatures(session, [line.payment.id for line in lines])
        for line in lines:
            transaction = claim_transaction(session, line.payment.id)
            if transaction is None:
                skipped += 1
                continue
            state = "suggested" if line.decision is Decision.SUGGEST else "unmatched"
            ranked = line.proposals if state == "suggested" else ()
            if transaction.state == state and pending.get(line.payment.id, ()) \
                    == tuple(_signature(p) for p in ranked):
                continue  # the same suggestions as last run: nothing to rewrite or journal
            session.execute(update(ProposalRow).where(
                ProposalRow.transaction_id == line.payment.id, ProposalRow.state == "pending")
                .values(state="superseded"))
            for rank, proposal in enumerate(ranked, start=1):
                session.add(_proposal_row(proposal, rank, line, run_id))
            transaction.state = state
            journal.record(session, actor=f"matcher:engine@{__version__}",
                           action=f"transaction.{state}", subject=f"payment:{line.payment.id}",
                           reason="; ".join(line.reasons),
                           data={"run_id": run_id, "proposals": len(ranked)})
    return skipped


def _signature(proposal: Proposal) -> tuple[object, ...]:
    return (proposal.matcher,
            tuple((str(a.item), f"{a.amount:f}", f"{a.discount:f}") for a in proposal.allocations),
            tuple((a.kind.value, f"{a.amount:f}") for a in proposal.adjustments))


_Signatures = dict[int, tuple[tuple[object, ...], ...]]


def _pending_signatures(session: Session, transaction_ids: Sequence[int]) -> _Signatures:
    rows = session.scalars(select(ProposalRow).where(
        ProposalRow.transaction_id.in_(transaction_ids), ProposalRow.state == "pending")
        .order_by(ProposalRow.transaction_id, ProposalRow.rank))
    found: dict[int, list[tuple[object, ...]]] = {}
    for row in rows:
        found.setdefault(row.transaction_id, []).append((
            row.matcher,
            tuple((f"{a['entity']}/{a['document_number']}", f"{Decimal(a['amount']):f}",
                   f"{Decimal(a.get('discount') or '0'):f}") for a in row.allocations),
            tuple((a["kind"], f"{Decimal(a['amount']):f}") for a in row.adjustments)))
    return {k: tuple(v) for k, v in found.items()}


def _proposal_row(proposal: Proposal, rank: int, line: _Line, run_id: int) -> ProposalRow:
    best = line.proposals[0]
    return ProposalRow(
        transaction_id=line.payment.id, run_id=run_id, rank=rank, matcher=proposal.matcher,
        customer_id=proposal.customer_id, confidence=proposal.confidence, decision="suggest",
        allocations=[{"entity": a.item.entity, "document_number": a.item.document_number,
                      "amount": f"{a.amount:f}", "discount": f"{a.discount:f}"}
                     for a in proposal.allocations],
        adjustments=[{"kind": a.kind.value, "amount": f"{a.amount:f}", "reason": a.reason}
                     for a in proposal.adjustments],
        evidence=[{"matcher": e.matcher, "kind": e.kind, "detail": e.detail, "weight": e.weight}
                  for e in proposal.evidence],
        explanation=explain(proposal, rank, best, line.notes[rank - 1], line.reasons),
        state="pending")


__all__ = ["LineOutcome", "MatchSummary", "OpenItem", "explain", "run_matching"]
