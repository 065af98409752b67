"""Writing a matcher run's decisions.

An automatic application per line, each in its own database transaction with its journal row
(the line is claimed with `FOR UPDATE SKIP LOCKED` and its items re-checked under lock: a
change since the snapshot sends the line to review instead); suggestions as ranked proposals
and the rest to the exception queue, in batches.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from matchers.candidates import CandidateView
from reconciler import __version__, journal
from reconciler.applying import apply_claimed, claim_state
from reconciler.db.bank import TransactionRow
from reconciler.db.base import utcnow
from reconciler.db.matching import MatchRunRow, ProposalRow
from reconciler.db.prepared import Prepared
from reconciler.db.session import Database
from reconciler.db.writer import SqliteWriter, writer_connection
from reconciler.domain import Decision, ItemKey, Payment, Proposal
from reconciler.errors import ReconError
from reconciler.heap import long_lived
from reconciler.money import ZERO, format_amount
from reconciler.progress import Progress
from reconciler.settings import Settings

WRITE_BATCH = 200  # suggestions / unmatched lines written per database transaction
APPLY_WORKERS = 8  # concurrent automatic applications on PostgreSQL


@dataclass(slots=True)
class DecidedLine:
    """A bank line with the run's ranked proposals and what the rules decided."""

    payment: Payment
    proposals: tuple[Proposal, ...] = ()
    notes: tuple[str, ...] = ()
    decision: Decision = Decision.UNMATCHED
    reasons: list[str] = field(default_factory=list)
    applied: bool = False


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


def start_run(db: Database) -> int:
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


def write_decisions(db: Database, settings: Settings, registry: Any,
                    lines: Sequence[DecidedLine], run_id: int, view: CandidateView,
                    progress: Progress) -> int:
    """Automatic applications first (each its own database transaction), then the rest.
    Returns how many lines were skipped (another worker holds or decided them)."""
    groups = _groups_sharing_items([line for line in lines if line.decision is Decision.AUTO])
    skipped = 0
    # On PostgreSQL each commit waits for its WAL flush; commits of concurrent sessions share
    # one flush, so independent groups are applied by several workers at once. SQLite has a
    # single writer and no flush per commit: one worker.
    workers = APPLY_WORKERS if db.is_postgres and len(groups) > 1 else 1
    with long_lived(), _Sessions(db) as sessions:
        def apply(group: list[DecidedLine]) -> list[str]:
            return _apply_group(sessions, settings, registry, group, view)

        with ExitStack() as threads:
            applied: Iterable[list[str]] = map(apply, groups)
            if workers > 1:
                pool = threads.enter_context(ThreadPoolExecutor(max_workers=workers))
                applied = pool.map(apply, groups)
            for outcomes in applied:
                skipped += outcomes.count("skipped")
                progress.advance(len(outcomes))
    to_review = [line for line in lines if line.decision is not Decision.AUTO]
    for start in range(0, len(to_review), WRITE_BATCH):
        batch = to_review[start:start + WRITE_BATCH]
        skipped += _store_for_review(db, batch, run_id)
        progress.advance(len(batch))
    return skipped


class _Sessions:
    """One session per applying thread, on a connection of its own kept for all its decisions
    (each decision is still its own database transaction): opening a session and checking a
    connection out of the pool for each of a hundred thousand decisions cost more than the
    decisions, and on PostgreSQL each checkout's liveness ping is one more round trip to the
    server per decision. SQLite's single writer begins and commits each decision at its
    driver and has its log checkpointed by a second thread (`reconciler.db.writer`)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._local = threading.local()
        self._lock = threading.Lock()
        self._stack = ExitStack()
        self._writer: SqliteWriter | None = None

    def decision(self) -> AbstractContextManager[Session]:
        """A session in a new database transaction, committed when the block ends."""
        if not self._db.is_postgres:
            if self._writer is None:
                self._writer = self._stack.enter_context(writer_connection(self._db))
            return self._writer.decision()
        session: Session | None = getattr(self._local, "session", None)
        if session is None:
            with self._lock:
                connection = self._stack.enter_context(self._db.engine.connect())
                session = self._local.session = self._stack.enter_context(
                    Session(bind=connection, expire_on_commit=False))
        return _begun(session)

    def __enter__(self) -> _Sessions:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()  # the sessions, then their connections, back to the pool


@contextmanager
def _begun(session: Session) -> Iterator[Session]:
    with session.begin():
        yield session


def _groups_sharing_items(lines: Sequence[DecidedLine]) -> list[list[DecidedLine]]:
    """Lines whose applications touch a common item (partial payments of one invoice) go in
    one group, applied one after the other; every other line is a group of its own."""
    owner: dict[ItemKey, int] = {}
    groups: dict[int, list[DecidedLine]] = {}
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


def _apply_group(sessions: _Sessions, settings: Settings, registry: Any,
                 group: Sequence[DecidedLine], view: CandidateView) -> list[str]:
    consumed: dict[ItemKey, Decimal] = {}  # settled by earlier lines of this group, this run
    outcomes = []
    for line in group:
        outcome = _apply_automatically(sessions, settings, registry, line, view, consumed)
        if outcome == "applied":
            for allocation in line.proposals[0].allocations:
                consumed[allocation.item] = consumed.get(allocation.item, ZERO) \
                    + allocation.settled
        outcomes.append(outcome)
    return outcomes


def _apply_automatically(sessions: _Sessions, settings: Settings, registry: Any,
                         line: DecidedLine, view: CandidateView,
                         consumed: Mapping[ItemKey, Decimal]) -> str:
    proposal = line.proposals[0]
    seen = {key: item.open_amount - consumed.get(key, ZERO) for key in proposal.item_keys
            if (item := view.item(key)) is not None}
    actor = _actor(registry, proposal.matcher)
    explanation = explain(proposal, 1, proposal, line.notes[0], line.reasons)
    try:
        with sessions.decision() as session:
            if apply_claimed(session, proposal, actor=actor, settings=settings.matching,
                             expected_open=seen, explanation=explanation) is None:
                return "skipped"
    except ReconError as exc:
        # Someone changed the items since the snapshot, or the proposal breaks a rule that
        # only the stored data shows: a person looks at it instead.
        line.decision = Decision.SUGGEST
        line.reasons.append(f"not applied automatically: {exc}")
        return "review"
    line.applied = True
    return "applied"


def _store_for_review(db: Database, lines: Sequence[DecidedLine], run_id: int) -> int:
    """Suggestions and unmatched lines, a batch per database transaction, one journal row per
    line whose outcome changed since the last run."""
    skipped = 0
    now = utcnow()
    superseded: list[dict[str, Any]] = []
    states: list[dict[str, Any]] = []
    proposals: list[dict[str, Any]] = []
    journaled: list[journal.JournalLine] = []
    with db.transaction() as session:
        pending = _pending_signatures(session, [line.payment.id for line in lines])
        for line in lines:
            current = claim_state(session, line.payment.id)
            if current is None:
                skipped += 1
                continue
            state = "suggested" if line.decision is Decision.SUGGEST else "unmatched"
            ranked = line.proposals if state == "suggested" else ()
            if current == state and pending.get(line.payment.id, ()) \
                    == tuple(_signature(p) for p in ranked):
                continue  # the same suggestions as last run: nothing to rewrite or journal
            superseded.append({"p_line": line.payment.id})
            proposals.extend(_proposal_values(proposal, rank, line, run_id, now)
                             for rank, proposal in enumerate(ranked, start=1))
            states.append({"p_line": line.payment.id, "p_state": state})
            journaled.append((f"matcher:engine@{__version__}", f"transaction.{state}",
                              f"payment:{line.payment.id}", "; ".join(line.reasons),
                              {"run_id": run_id, "proposals": len(ranked)}))
        _SUPERSEDE.execute_many(session, superseded)
        _INSERT_PROPOSAL.execute_many(session, proposals)
        _SET_STATE.execute_many(session, states)
        if journaled:
            journal.record_many(session, journaled)
    return skipped


_P = cast(Table, ProposalRow.__table__)
_T = cast(Table, TransactionRow.__table__)
_SUPERSEDE = Prepared(update(_P).where(_P.c.transaction_id == bindparam("p_line"),
                                       _P.c.state == "pending").values(state="superseded"))
_PROPOSAL_COLUMNS = ("transaction_id", "run_id", "rank", "matcher", "customer_id", "confidence",
                     "decision", "allocations", "adjustments", "evidence", "explanation",
                     "state", "created_at")
_INSERT_PROPOSAL = Prepared(insert(_P).values({name: bindparam(f"p_{name}")
                                               for name in _PROPOSAL_COLUMNS}))
_SET_STATE = Prepared(update(_T).where(_T.c.id == bindparam("p_line"))
                      .values(state=bindparam("p_state")))


def _signature(proposal: Proposal) -> tuple[object, ...]:
    return (proposal.matcher,
            tuple((str(a.item), f"{a.amount:f}", f"{a.discount:f}") for a in proposal.allocations),
            tuple((a.kind.value, f"{a.amount:f}") for a in proposal.adjustments))


_Signatures = dict[int, tuple[tuple[object, ...], ...]]


def _pending_signatures(session: Session, transaction_ids: Sequence[int]) -> _Signatures:
    p = ProposalRow
    rows = session.execute(select(p.transaction_id, p.matcher, p.allocations, p.adjustments)
                           .where(p.transaction_id.in_(transaction_ids), p.state == "pending")
                           .order_by(p.transaction_id, p.rank))
    found: dict[int, list[tuple[object, ...]]] = {}
    for row in rows:
        found.setdefault(row.transaction_id, []).append((
            row.matcher,
            tuple((f"{a['entity']}/{a['document_number']}", f"{Decimal(a['amount']):f}",
                   f"{Decimal(a.get('discount') or '0'):f}") for a in row.allocations),
            tuple((a["kind"], f"{Decimal(a['amount']):f}") for a in row.adjustments)))
    return {k: tuple(v) for k, v in found.items()}


def _proposal_values(proposal: Proposal, rank: int, line: DecidedLine, run_id: int,
                     now: dt.datetime) -> dict[str, Any]:
    best = line.proposals[0]
    return {
        "p_transaction_id": line.payment.id, "p_run_id": run_id, "p_rank": rank,
        "p_matcher": proposal.matcher, "p_customer_id": proposal.customer_id,
        "p_confidence": proposal.confidence, "p_decision": "suggest",
        "p_allocations": [{"entity": a.item.entity, "document_number": a.item.document_number,
                           "amount": f"{a.amount:f}", "discount": f"{a.discount:f}"}
                          for a in proposal.allocations],
        "p_adjustments": [{"kind": a.kind.value, "amount": f"{a.amount:f}", "reason": a.reason}
                          for a in proposal.adjustments],
        "p_evidence": [{"matcher": e.matcher, "kind": e.kind, "detail": e.detail,
                        "weight": e.weight} for e in proposal.evidence],
        "p_explanation": explain(proposal, rank, best, line.notes[rank - 1], line.reasons),
        "p_state": "pending", "p_created_at": now}
