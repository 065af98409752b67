"""Concurrency proof: N `recon match` processes at once over the same payments on PostgreSQL.

    python -m tests.benchmarks.concurrency [--payments 100000] [--open-items N] [--workers 4]
                                           [--stagger S] [--seed 11] [--noise 1.0] [--url URL]

`--url` is the admin connection (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres,
or $RECON_TEST_POSTGRES_URL): a throw-away database is created there and dropped at the end.
The demo generator writes customers, open items (default: two per payment) and camt.053 files;
they are loaded, then the workers run `python -m reconciler.cli match`, worker k starting
`stagger * k` seconds after the first, and the last one only once the others have committed
their first applications (its candidate view is stale when it writes; `--no-late` starts it
on time). Printed: each worker's summary, the wall time, and the
invariant checks (no payment applied twice, every application balanced, item open amounts =
ERP open amounts - live applications and never across zero, totals add up, journal verifies).
Exit code 1 when a check fails.

`--synchronous-commit off` sets that for the throw-away database only: it makes each commit
cheaper (no wait for the WAL flush) without changing locking or visibility, so it shortens a
large run without weakening what is proved about concurrent workers.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from reconciler.db.bank import TransactionRow
from reconciler.demo import DemoConfig
from tests.reliability import dataset
from tests.reliability.concurrent import run_workers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.concurrency",
                                     description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--payments", type=int, default=100_000)
    parser.add_argument("--open-items", type=int, default=0, help="default: 2 per payment")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--stagger", type=float, default=2.0,
                        help="seconds between the starts of two workers")
    parser.add_argument("--no-late", action="store_true",
                        help="start the last worker on schedule, not after the first writes")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--noise", type=float, default=1.0)
    parser.add_argument("--synchronous-commit", choices=("on", "off"), default="on")
    parser.add_argument("--url", default=dataset.ADMIN_URL, help="PostgreSQL admin URL")
    args = parser.parse_args(argv)
    items = args.open_items or 2 * args.payments
    config = DemoConfig(seed=args.seed, payments=args.payments, open_items=items,
                        customers=max(20, items // 10), noise=args.noise)
    with tempfile.TemporaryDirectory(prefix="recon-concurrency-") as tmp, \
            dataset.postgres_database(args.url) as url:
        folder = Path(tmp)
        started = time.monotonic()
        dataset.make_demo(folder / "data", config)
        print(f"generated {config.payments:,} payments, {config.open_items:,} open items, "
              f"{config.customers:,} customers (seed {config.seed}, noise {config.noise}) in "
              f"{time.monotonic() - started:.1f} s")
        if args.synchronous_commit == "off":
            dataset.without_commit_flush(args.url, url)
        db = dataset.fresh_database(url)
        started = time.monotonic()
        dataset.load_master_data(db, folder / "data")
        dataset.load_bank_files(db, dataset.bank_files(folder / "data"))
        with db.session() as session:
            credits = session.scalar(select(func.count()).select_from(TransactionRow)
                                     .where(TransactionRow.state == "unreconciled"))
        print(f"loaded in {time.monotonic() - started:.1f} s: {credits:,} credits to match")
        print(f"{args.workers} workers, `recon match` each, started {args.stagger:g} s apart "
              f"(synchronous_commit {args.synchronous_commit}"
              + ("" if args.no_late else "; the last after the first applications") + ")")
        result = run_workers(db, url, args.workers, args.stagger, folder, late=not args.no_late)
        db.dispose()
    for worker in result.workers:
        print(f"  worker {worker.worker}: +{worker.started_after:5.1f} s, "
              f"{worker.seconds:7.1f} s, exit {worker.exit_code}: {worker.summary}"
              + (f" [{worker.error_tail}]" if worker.error_tail else ""))
    print(f"wall time of the concurrent run: {result.wall_seconds:.1f} s")
    print("invariants:")
    for check in result.checks:
        print(check.line())
    print("RESULT: " + ("all invariants hold" if result.ok else "INVARIANT BROKEN"))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
