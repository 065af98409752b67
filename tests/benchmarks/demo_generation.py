"""Demo data generation at scale: how long a benchmark waits for its data set.

    python -m tests.benchmarks.demo_generation [--open-items 1000000] [--payments 100000]
                                               [--customers 20000] [--seed 42]

Prints wall and CPU time for generation and for writing (CSV, MT940, camt.053, camt.054,
truth.csv), the peak memory and what was written. Goal: 1,000,000 open items and 100,000
payments well under a minute on the 2-core reference machine. On a busy machine compare the
CPU figures: wall time then mostly measures the other processes.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from reconciler.demo import DemoConfig, generate, write_demo_files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--open-items", type=int, default=1_000_000)
    parser.add_argument("--payments", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    config = DemoConfig(seed=args.seed, customers=args.customers, open_items=args.open_items,
                        payments=args.payments)
    with tempfile.TemporaryDirectory() as folder:
        wall, cpu = time.perf_counter(), time.process_time()
        data = generate(config)
        generated = time.perf_counter() - wall, time.process_time() - cpu
        wall, cpu = time.perf_counter(), time.process_time()
        files = write_demo_files(data, Path(folder))
        written = time.perf_counter() - wall, time.process_time() - cpu
        size = sum(p.stat().st_size for p in files.all)
        count = len(files.all)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{len(data.customers):,} customers, {len(data.open_items):,} open items, "
          f"{len(data.payments):,} payments (seed {config.seed})")
    print(f"generate   wall {generated[0]:6.1f} s   CPU {generated[1]:6.1f} s")
    print(f"write      wall {written[0]:6.1f} s   CPU {written[1]:6.1f} s   "
          f"{count} files, {size / 2**20:,.0f} MiB")
    total_wall, total_cpu = generated[0] + written[0], generated[1] + written[1]
    print(f"total      wall {total_wall:6.1f} s   CPU {total_cpu:6.1f} s   (goal: well under 60 s)")
    print(f"peak RSS   {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
