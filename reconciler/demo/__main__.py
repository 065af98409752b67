"""`python -m reconciler.demo --out DIR`: write a demo data set and say what was written."""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from reconciler.demo.files import FORMATS, write_demo_files
from reconciler.demo.generator import DemoConfig, generate
from reconciler.demo.scenario import Scenario


def build_parser() -> argparse.ArgumentParser:
    defaults = DemoConfig()
    parser = argparse.ArgumentParser(
        prog="python -m reconciler.demo",
        description="Write synthetic customers, open items, bank files and their ground truth.")
    parser.add_argument("--out", required=True, type=Path, help="folder to write into")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--customers", type=int, default=defaults.customers)
    parser.add_argument("--open-items", type=int, default=defaults.open_items)
    parser.add_argument("--payments", type=int, default=defaults.payments)
    parser.add_argument("--start", type=dt.date.fromisoformat, default=defaults.start,
                        help="first day of the bank files (ISO date)")
    parser.add_argument("--days", type=int, default=defaults.days, help="calendar days")
    parser.add_argument("--noise", type=float, default=defaults.noise,
                        help="scale of the hard scenarios' frequencies (0 = clean only)")
    parser.add_argument("--mix", default="", metavar="NAME=WEIGHT,...",
                        help="replace scenario weights (percent), e.g. overpayment=10,loan=0")
    parser.add_argument("--formats", default=",".join(FORMATS),
                        help=f"comma-separated, from {','.join(FORMATS)}")
    parser.add_argument("--mt940-style", choices=("german", "ing"), default="german")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        mix = tuple((name.strip(), float(weight)) for name, weight in
                    (pair.split("=", 1) for pair in args.mix.split(",") if pair.strip()))
        known = {s.value for s in Scenario}
        unknown = [name for name, _ in mix if name not in known]
        if unknown:
            raise ValueError(f"unknown scenario(s) {', '.join(unknown)}")
    except ValueError as exc:
        parser.error(f"--mix: {exc}; scenarios: {', '.join(s.value for s in Scenario)}")
    config = DemoConfig(seed=args.seed, customers=args.customers, open_items=args.open_items,
                        payments=args.payments, start=args.start, days=args.days,
                        noise=args.noise, mix=mix)
    started, cpu_started = time.perf_counter(), time.process_time()
    data = generate(config)
    generated = time.perf_counter()
    files = write_demo_files(data, args.out,
                             formats=[f for f in args.formats.split(",") if f],
                             mt940_style=args.mt940_style)
    done = time.perf_counter()
    print(f"seed {config.seed}: {len(data.customers)} customers, {len(data.open_items)} open "
          f"items, {len(data.payments)} bank transactions over {len(data.business_days)} "
          f"business days")
    print(f"generated in {generated - started:.1f} s, written in {done - generated:.1f} s "
          f"(CPU {time.process_time() - cpu_started:.1f} s)")
    print(f"  {files.customers}")
    print(f"  {files.open_items}")
    for name, paths in (("MT940", files.mt940), ("camt.053", files.camt053),
                        ("camt.054", files.camt054)):
        if paths:
            print(f"  {len(paths)} {name} files: {paths[0].name} .. {paths[-1].name}")
    print(f"  {files.truth}")
    seen = collections.Counter(row.scenario for row in data.truth)
    print("scenarios: " + ", ".join(f"{name} {count}" for name, count in sorted(seen.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
