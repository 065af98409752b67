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
   A run stopped while writing keeps what it committed; its row and the journal say so.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import update

from matchers.candidates import CandidateView, LearnedLink
from matchers.registry import load_registry
from reconciler import __version__, journal
from reconciler.chain import match_lines
from reconciler.conflicts import Resolution, resolve
from reconciler.db.base import utcnow
from reconciler.db.matching import MatchRunRow
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
from reconciler.heap import long_lived
from reconciler.money import ZERO, format_amount
from reconciler.progress import Progress
from reconciler.settings import Settings
from reconciler.snapshot import Snapshot, load_snapshot
from reconciler.writing import DecidedLine, start_run, write_decisions
from rules.decision import decide

MAX_ALTERNATIVES = 5  # ranked proposals kept per line for review


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
    # (phase, CPU seconds of this process and of its worker processes): the phase's work on
    # all cores; a wall time above it is waiting (the disk, a lock), below it parallel work.
    phases_cpu: tuple[tuple[str, float], ...] = ()

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


def run_matching(db: Database, settings: Settings, *, dry_run: bool = False,
                 progress: Progress | None = None, registry: Any = None) -> MatchSummary:
    """Match every open credit line; returns what was (or, in a dry run, would be) done."""
    started = time.monotonic()
    phases = PhaseClock()
    registry = registry if registry is not None else load_registry(settings.matching)
    with db.session() as session:
        snapshot = load_snapshot(session)
    phases.done("read")
    view = CandidateView.build(snapshot.customers, snapshot.items,
                               [LearnedLink(k, v, c) for k, v, c in snapshot.learned],  # type: ignore[arg-type]
                               snapshot.closed_items)
    snapshot.items, snapshot.closed_items = [], []  # the view holds them now
    phases.done("index")
    # The snapshot and the view live as long as the run and hold no garbage: a full
    # collection walking their millions of objects (several times while the lines' proposals
    # are made, resolved and written) only costs time. Objects made during the run are
    # collected as usual.
    with long_lived():
        lines, diagnostics, run_id, skipped = _match_resolve_write(
            db, settings, registry, snapshot, view, phases, dry_run, progress)
    outcomes = tuple(_outcome(line) for line in lines)
    summary = MatchSummary(
        lines=len(lines), auto=sum(o.decision is Decision.AUTO for o in outcomes),
        suggested=sum(o.decision is Decision.SUGGEST for o in outcomes),
        unmatched=sum(o.decision is Decision.UNMATCHED for o in outcomes),
        seconds=time.monotonic() - started, diagnostics=tuple(diagnostics), outcomes=outcomes,
        dry_run=dry_run, run_id=run_id, skipped=skipped, phases=tuple(phases.seconds),
        phases_cpu=tuple(phases.cpu))
    if run_id is not None:
        with db.transaction() as session:
            session.execute(update(MatchRunRow).where(MatchRunRow.id == run_id)
                            .values(finished_at=utcnow(), summary=summary.as_dict()))
    return summary


def _match_resolve_write(db: Database, settings: Settings, registry: Any, snapshot: Snapshot,
                         view: CandidateView, phases: PhaseClock, dry_run: bool,
                         progress: Progress | None
                         ) -> tuple[list[DecidedLine], list[Diagnostic], int | None, int]:
    """The run after the snapshot: match, resolve, decide and (unless a dry run) write."""
    diagnostics: list[Diagnostic] = list(snapshot.diagnostics)
    progress = progress or Progress("matching", len(snapshot.payments), unit="lines")
    def validated(payment: Payment, proposals: Sequence[Proposal],
                  found: list[Diagnostic]) -> tuple[Proposal, ...]:
        return _validated(payment, proposals, view, snapshot, found)

    candidates, found = match_lines(snapshot.payments, view, registry, validated,
                                    workers=settings.matching.workers, progress=progress)
    diagnostics.extend(found)
    progress.close()
    phases.done("match")
    resolutions = resolve(candidates, _OpenAmounts(view),
                          {payment.id: payment.value_date for payment in snapshot.payments})
    lines = [_decided(payment, resolutions[payment.id], settings) for payment in snapshot.payments]
    phases.done("resolve + decide")
    run_id: int | None = None
    skipped = 0
    if not dry_run:
        run_id = start_run(db)
        writing = Progress("writing", len(lines), stream=progress.stream, unit="lines")
        try:
            skipped = write_decisions(db, settings, registry, lines, run_id, view, writing)
        except BaseException as exc:  # Ctrl-C and a lost database connection included
            _record_interrupted(db, run_id, lines, exc)
            raise
        writing.close()
        phases.done("write")
    return lines, diagnostics, run_id, skipped


def _record_interrupted(db: Database, run_id: int, lines: Sequence[DecidedLine],
                        exc: BaseException) -> None:
    """A run stopped while writing: the decisions committed so far stand (each is its own
    database transaction) and the next run takes the lines still open. The run's row and the
    journal say that it stopped and how far it got, so an auditor does not read a run that
    never ended as one still going. If even this cannot be written (the database is gone),
    the original error is the one the caller sees."""
    reason = (f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)[:500]
    data = {"run_id": run_id, "lines": len(lines),
            "applied": sum(line.applied for line in lines)}
    with contextlib.suppress(Exception), db.transaction() as session:
        session.execute(update(MatchRunRow).where(MatchRunRow.id == run_id)
                        .values(finished_at=utcnow(), summary={**data, "interrupted": reason}))
        journal.record(session, actor=f"matcher:engine@{__version__}",
                       action="match.interrupted", subject=f"run:{run_id}", reason=reason,
                       data=data)


class PhaseClock:
    """Wall-clock and CPU seconds (`cpu_seconds`) of consecutive phases."""

    def __init__(self) -> None:
        self.seconds: list[tuple[str, float]] = []
        self.cpu: list[tuple[str, float]] = []
        self._last = time.monotonic()
        self._last_cpu = cpu_seconds()

    def done(self, name: str) -> None:
        """The phase since the last one ended (or the clock started) is over."""
        now, cpu = time.monotonic(), cpu_seconds()
        self.add(name, now - self._last, cpu - self._last_cpu)

    def add(self, name: str, seconds: float, cpu: float) -> None:
        """A phase timed elsewhere; the next one starts now."""
        self.seconds.append((name, seconds))
        self.cpu.append((name, cpu))
        self._last, self._last_cpu = time.monotonic(), cpu_seconds()


def cpu_seconds() -> float:
    """CPU time (user and system) of this process and of the worker processes it has
    waited for (the match workers, once their pool is closed)."""
    user, system, children_user, children_system, _ = os.times()
    return user + system + children_user + children_system


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
        # Items as (entity, number) tuples: hashed and ordered in C, as their keys would be.
        signature = (tuple(sorted((a.item.entity, a.item.document_number, a.amount, a.discount)
                                  for a in proposal.allocations)),
                     tuple(sorted((a.kind.value, a.amount) for a in proposal.adjustments)))
        if signature in seen or (rejected and proposal.item_keys in rejected):
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
    if len({(a.item.entity, a.item.document_number) for a in proposal.allocations}) \
            != len(proposal.allocations):
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


def _decided(payment: Payment, resolution: Resolution, settings: Settings) -> DecidedLine:
    line = DecidedLine(payment, resolution.proposals[:MAX_ALTERNATIVES],
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


def _outcome(line: DecidedLine) -> LineOutcome:
    best = line.proposals[0] if line.proposals and line.decision is not Decision.UNMATCHED \
        else None
    return LineOutcome(
        transaction_id=line.payment.id, bank_reference=line.payment.bank_reference or "",
        amount=line.payment.amount, currency=line.payment.currency, decision=line.decision,
        items=tuple(str(a.item) for a in best.allocations) if best else (),
        confidence=best.confidence if best else None, matcher=best.matcher if best else None,
        reasons=tuple(line.reasons))


__all__ = ["LineOutcome", "MatchSummary", "OpenItem", "PhaseClock", "cpu_seconds",
           "run_matching"]
