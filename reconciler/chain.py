"""Running the matcher chain over a run's lines, in forked worker processes when there are many.

The chain is pure computation on a read-only candidate view: each line's proposals depend on
the line and the view only. A morning's files can hold a hundred thousand lines against a
million open items, so the lines are split into chunks and matched by worker processes
forked after the view is built: the children share the parent's view (copy-on-write) instead
of building or receiving their own, and send back only their proposals. Conflicts between
lines are settled afterwards, in the parent, over all lines at once, so the result is the
same whatever the number of workers.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from matchers.candidates import CandidateView
from reconciler.domain import Diagnostic, Payment, Proposal
from reconciler.heap import long_lived
from reconciler.progress import Progress

MIN_LINES_PER_WORKER = 2_000  # below this, forking costs more than it saves
CHUNK = 250  # lines per task: small enough to balance, large enough to amortise the pickling
MAX_WORKERS = 8

# What a line's proposals go through after the chain (the engine's validation).
Validate = Callable[[Payment, Sequence[Proposal], list[Diagnostic]], tuple[Proposal, ...]]
Matched = tuple[dict[int, tuple[Proposal, ...]], list[Diagnostic]]


@dataclass(frozen=True, slots=True)
class _Work:
    payments: Sequence[Payment]
    view: CandidateView
    registry: Any
    validate: Validate


_work: _Work | None = None  # set in the parent just before forking; the children inherit it


def match_lines(payments: Sequence[Payment], view: CandidateView, registry: Any,
                validate: Validate, *, workers: int, progress: Progress) -> Matched:
    """Every line's validated proposals (by payment id) and the diagnostics raised."""
    work = _Work(payments, view, registry, validate)
    count = worker_count(workers, len(payments))
    candidates: dict[int, tuple[Proposal, ...]] = {}
    diagnostics: list[Diagnostic] = []
    for found, raised, lines in _chunks(work, count):
        candidates.update(found)
        diagnostics.extend(raised)
        progress.advance(lines)
    return candidates, diagnostics


def worker_count(configured: int, lines: int) -> int:
    """`configured` workers (0: one per core), never more than the lines justify."""
    available = configured if configured > 0 else (os.cpu_count() or 1)
    return max(1, min(available, MAX_WORKERS, lines // MIN_LINES_PER_WORKER))


def _chunks(work: _Work, workers: int) -> Iterator[tuple[dict[int, tuple[Proposal, ...]],
                                                           list[Diagnostic], int]]:
    starts = range(0, len(work.payments), CHUNK)
    if workers == 1:
        for start in starts:
            yield (*_match_chunk(work, start), min(CHUNK, len(work.payments) - start))
        return
    global _work
    _work = work
    # Frozen objects are left alone by the children's garbage collector, which would otherwise
    # touch (and so copy) every page of the shared view.
    try:
        with long_lived(), multiprocessing.get_context("fork").Pool(workers) as pool:
            for start, (found, raised) in zip(starts, pool.imap(_match_inherited, starts),
                                              strict=True):
                yield found, raised, min(CHUNK, len(work.payments) - start)
    finally:
        _work = None


def _match_inherited(start: int) -> tuple[dict[int, tuple[Proposal, ...]], list[Diagnostic]]:
    assert _work is not None, "the work is set before the workers are forked"
    return _match_chunk(_work, start)


def _match_chunk(work: _Work, start: int) -> tuple[dict[int, tuple[Proposal, ...]],
                                                  list[Diagnostic]]:
    found: dict[int, tuple[Proposal, ...]] = {}
    diagnostics: list[Diagnostic] = []
    for payment in work.payments[start:start + CHUNK]:
        proposals, raised = work.registry.run(payment, work.view)
        diagnostics.extend(raised)
        found[payment.id] = work.validate(payment, proposals, diagnostics)
    return found, diagnostics
