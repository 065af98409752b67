"""Crash loop: kill -9 imports, matching, applying and outbox delivery; check what is left.

    python -m tests.benchmarks.crash_loop [--kills 50] [--phases import,match,apply,outbox]
                                          [--backends sqlite,postgresql] [--payments 300]
                                          [--seed 1] [--url URL]

For each backend (a SQLite file; a throw-away PostgreSQL database created through the admin
`--url`, default postgresql+psycopg://postgres@127.0.0.1:5432/postgres) and each phase, the
victim command runs as a real child process and is killed with SIGKILL after a random delay
(seeded by `--seed`) until `--kills` kills have landed in that phase. After every kill, and
after every command that ran to its end, the stored state is checked:

- the audit journal's hash chain verifies (`reconciler.journal.verify`), with one journal row
  per application, reversal, imported file and delivered posting;
- per application: applied + adjustments + unapplied = the payment; no payment with two live
  applications; item open amounts = ERP open amounts - live applications, never across zero;
- every bank file stored once or not at all, every stored statement with all its
  transactions, a master-data CSV's rows all there or none;
- postings numbered 1..n without a gap, one per application; every file in the sink's folder
  holds exactly its stored posting (same sequence, same posting_id: the idempotency key), one
  file per sequence number, and every delivery marked delivered has its file.

When a phase's work completes, the completion checks run too (every file imported, no line
left undecided, every posting delivered once) and the database returns to the phase's start.
Exit code 1 when any check failed.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

from reconciler.demo import DemoConfig
from tests.reliability import crash, dataset


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.crash_loop",
                                     description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--kills", type=int, default=50, help="kills per phase and backend")
    parser.add_argument("--phases", default=",".join(crash.PHASES))
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--payments", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--url", default=dataset.ADMIN_URL, help="PostgreSQL admin URL")
    parser.add_argument("-v", "--verbose", action="store_true", help="a line per kill")
    args = parser.parse_args(argv)
    phases = [p for p in args.phases.split(",") if p]
    unknown = [p for p in phases if p not in crash.PHASES]
    if unknown:
        parser.error(f"unknown phase(s) {unknown}; choose from {crash.PHASES}")
    config = DemoConfig(seed=args.seed, payments=args.payments, open_items=2 * args.payments,
                        customers=max(20, args.payments // 5), days=12)
    lines: list[str] = []
    ok = True
    started = time.monotonic()
    for backend in [b for b in args.backends.split(",") if b]:
        with tempfile.TemporaryDirectory(prefix="recon-crash-") as tmp:
            store: crash.Store = (crash.SqliteStore(Path(tmp)) if backend == "sqlite" else
                                  crash.PostgresStore(args.url,
                                                      f"recon_crash_{uuid.uuid4().hex[:8]}"))
            try:
                bench = crash.prepare(store, Path(tmp), config, args.seed)
                print(f"{backend}: {len(bench.files)} bank files "
                      f"({sum(bench.expected.values())} transactions), "
                      f"{len(bench.documents)} open items, {len(bench.customer_ids)} customers;"
                      f" command start-up {bench.startup:.1f} s", flush=True)
                rng = random.Random(args.seed)
                for phase in phases:
                    report = crash.run_phase(
                        bench, phase, args.kills, rng,
                        log=(lambda line: print("  " + line, flush=True)) if args.verbose
                        else lambda _: None)
                    ok = ok and report.ok
                    for line in crash.summary_lines(backend, report):
                        print(line, flush=True)
                        lines.append(line)
            finally:
                store.close()
    print(f"total {time.monotonic() - started:.0f} s")
    print("RESULT: " + ("every check held after every kill" if ok else "A CHECK FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
