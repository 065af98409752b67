"""Micro-benchmark of the pure matching layer (no database): view build, speed, quality.

    python -m tests.benchmarks.matchers [--items 1000000] [--payments 3000]
                                        [--open-items 30000] [--seed 7] [--noise 1.0]

1. Builds a `CandidateView` over `--items` synthetic open items (default one million) and
   reports wall and CPU time (CPU is what counts on a shared machine) and, with `--memory`,
   the memory the indexes take.
2. Runs the registry chain and the decision rules over the demo generator's payments (the
   same generator as `tests.benchmarks.matching`, straight from memory: no bank files, no
   database, no conflict resolution across lines) and prints, per scenario, the automatic
   rate, the precision of automatic applications, the wrong ones, and whether the best
   suggestion of the rest is right, plus proposals per second.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import resource
import time
import tracemalloc
from collections import Counter, defaultdict
from decimal import Decimal

from matchers.candidates import CandidateView
from matchers.registry import load_registry
from reconciler.demo import DemoConfig
from reconciler.demo.generator import generate
from reconciler.demo.truth import TruthRow
from reconciler.domain import (
    AdjustmentKind,
    Customer,
    Decision,
    DocumentType,
    OpenItem,
    Payment,
    Proposal,
)
from reconciler.settings import MatchingSettings
from rules.decision import decide


def _synthetic(count: int) -> tuple[list[Customer], list[OpenItem]]:
    customers = [Customer(f"C{n:06d}", f"Customer {n} Handels GmbH",
                          (f"DE{n % 97:02d}5001051754{n:08d}",)) for n in range(count // 10)]
    issue = dt.date(2026, 10, 1)
    due = dt.date(2026, 10, 31)
    items = [OpenItem("MAIN", f"INV-2026-{n:07d}", DocumentType.INVOICE, f"C{n // 10:06d}",
                      "EUR", Decimal(f"{100 + n % 9000}.{n % 100:02d}"),
                      Decimal(f"{100 + n % 9000}.{n % 100:02d}"), issue, due,
                      f"RF{n:010d}" if n % 3 == 0 else None)
             for n in range(count)]
    return customers, items


def bench_view(count: int, memory: bool) -> None:
    customers, items = _synthetic(count)
    gc.collect()
    started, cpu = time.perf_counter(), time.process_time()
    view = CandidateView.build(customers, items)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"view build: {count:,} items, {len(customers):,} customers in {elapsed:.2f} s wall, "
          f"{cpu:.2f} s CPU ({count / cpu:,.0f} items per CPU second); "
          f"{len(view.items_by_document('INV20260012345'))} hit for INV-2026-0012345")
    if memory:
        del view
        gc.collect()
        tracemalloc.start()
        view = CandidateView.build(customers, items)
        current, _peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"view indexes take {current / 2**20:,.0f} MB beyond the items themselves")


def _right(proposal: Proposal | None, truth: TruthRow) -> bool:
    """The truth's items with the cash on each (a partial payment: the part paid), and its
    cash kept on account (an overpayment, a double payment) on the right customer's account."""
    if proposal is None:
        return not truth.settled and not truth.unapplied
    items = frozenset((a.item.document_number, a.amount) for a in proposal.allocations)
    unapplied = sum((a.amount for a in proposal.adjustments
                     if a.kind is AdjustmentKind.UNAPPLIED), Decimal(0))
    return (items == frozenset(truth.settled) and unapplied == truth.unapplied
            and (not unapplied or proposal.customer_id == truth.customer_id))


def bench_quality(args: argparse.Namespace) -> None:
    config = DemoConfig(seed=args.seed, customers=max(1, args.open_items // 10),
                        open_items=args.open_items, payments=args.payments, noise=args.noise)
    data = generate(config)
    settings = MatchingSettings()
    registry = load_registry(settings)
    view = CandidateView.build(data.customers, data.open_items)
    per: dict[str, Counter[str]] = defaultdict(Counter)
    misses: dict[str, Counter[str]] = defaultdict(Counter)
    started = time.perf_counter()
    cpu_started = time.process_time()
    proposals_made = 0
    lines = 0
    applied: set[object] = set()  # items applied automatically by earlier lines
    for n, (generated, truth) in enumerate(zip(data.payments, data.truth, strict=True)):
        if generated.amount <= 0:
            continue
        lines += 1
        payment = Payment(n, generated.amount, generated.currency, generated.value_date,
                          generated.bank_reference, generated.counterparty_name,
                          generated.counterparty_iban, generated.creditor_reference,
                          generated.remittance_text, generated.end_to_end_id)
        ranked, _diagnostics = registry.run(payment, view)
        proposals_made += len(ranked)
        verdict = decide(ranked, settings)
        decision = verdict.decision
        if decision is Decision.AUTO and ranked[0].item_keys & applied:
            decision = Decision.SUGGEST  # what the engine's conflict resolution does
        elif decision is Decision.AUTO:
            applied.update(ranked[0].item_keys)
        tally = per[truth.scenario if truth.is_receivable else "(not receivable)"]
        tally["lines"] += 1
        best = ranked[0] if ranked else None
        if decision is Decision.AUTO:
            tally["auto"] += 1
            if truth.is_receivable and _right(best, truth):
                tally["auto_right"] += 1
            else:
                misses[truth.scenario]["wrong auto"] += 1
                if args.verbose:
                    print("WRONG", truth.scenario, generated.remittance_text, truth.settled,
                          best.explanation if best else "")
        elif truth.is_receivable:
            if truth.scenario in args.show and n % 3 == 0:
                print("MISSED", truth.scenario, repr(generated.remittance_text),
                      generated.counterparty_name, generated.amount, truth.settled,
                      verdict.reasons, "\n", best.explanation if best else "-", "\n")
            if decision is Decision.SUGGEST and _right(best, truth):
                tally["rest_right"] += 1
            elif any(_right(p, truth) for p in ranked[1:]):
                misses[truth.scenario]["right one ranked lower"] += 1
            elif decision is Decision.UNMATCHED:
                misses[truth.scenario]["unmatched"] += 1
            else:
                misses[truth.scenario]["best suggestion wrong"] += 1
        else:
            tally["rest_right"] += 1
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    print(f"\n{'scenario':<30} {'lines':>6} {'auto':>7} {'precision':>9} {'wrong':>6} "
          f"{'rest right':>10}  misses")
    total: Counter[str] = Counter()
    for name in sorted(per, key=lambda s: -per[s]["lines"]):
        t = per[name]
        if name != "(not receivable)":
            total.update(t)
        rest = t["lines"] - t["auto"]
        print(f"{name:<30} {t['lines']:>6} {_pct(t['auto'], t['lines'])} "
              f"{_pct(t['auto_right'], t['auto']):>9} {t['auto'] - t['auto_right']:>6} "
              f"{_pct(t['rest_right'], rest):>10}  "
              + ", ".join(f"{k} {v}" for k, v in misses[name].most_common(3)))
    rest = total["lines"] - total["auto"]
    print(f"{'ALL receivables':<30} {total['lines']:>6} {_pct(total['auto'], total['lines'])} "
          f"{_pct(total['auto_right'], total['auto']):>9} "
          f"{total['auto'] - total['auto_right']:>6} {_pct(total['rest_right'], rest):>10}")
    print(f"\nmatching: {lines:,} lines in {elapsed:.2f} s = {lines / elapsed:,.0f} lines/s, "
          f"{proposals_made / elapsed:,.0f} proposals/s (registry.run + decide, "
          f"{len(data.open_items):,} open items); CPU {cpu:.2f} s = {lines / cpu:,.0f} "
          f"lines/s per core")


def _pct(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:6.1f}%" if whole else "      -"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--payments", type=int, default=3000)
    parser.add_argument("--open-items", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--noise", type=float, default=1.0)
    parser.add_argument("--verbose", action="store_true", help="print every wrong application")
    parser.add_argument("--skip-view", action="store_true")
    parser.add_argument("--memory", action="store_true", help="also measure the indexes' memory")
    parser.add_argument("--show", nargs="*", default=(), help="print misses of these scenarios")
    args = parser.parse_args(argv)
    if not args.skip_view:
        bench_view(args.items, args.memory)
    bench_quality(args)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:,.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
