"""Benchmark: our MT940 parser against the bare `mt-940` library on the same file.

    python -m tests.benchmarks.mt940 [--transactions 100000] [--repeat 3]

Generates an MT940 file of N transactions in statements of 500 entries, half with German
`?NN` SEPA details and half in ING's `/EREF/.../CNTP/.../REMI/` layout, then reports
transactions per CPU second (best of --repeat runs) and peak memory (tracemalloc, a separate
run) for `parse_mt940` and for `mt940.models.Transactions().parse(text)`.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from collections.abc import Callable
from decimal import Decimal

import mt940

from parsers.mt940 import parse_mt940

ENTRIES_PER_STATEMENT = 500


def _german_entry(number: int) -> tuple[Decimal, str]:
    amount = Decimal(number % 9000 + 1) + Decimal(number % 100) / 100
    text = (
        f":61:2401020102CR{amount:.2f}".replace(".", ",") + f"NTRFKREF+//2401020{number:09d}\n"
        f":86:166?00SEPA-GUTSCHRIFT?100599?20EREF+INV-{number:08d}?21KREF+K{number}"
        f"?22SVWZ+Rechnung INV-{number:08d} vom?23 02.01.2024 Kunde {number % 997}\n"
        f"?30COBADEFFXXX?31DE89370400440532013000?32Kunde {number % 997} GmbH?33 Niederlassung\n"
    )
    return amount, text


def _ing_entry(number: int) -> tuple[Decimal, str]:
    amount = Decimal(number % 700 + 1) + Decimal(number % 100) / 100
    text = (
        f":61:2401020102D{amount:.2f}".replace(".", ",") + f"NTRFEREF//{number:014d}\n"
        f"/TRCD/00100/\n"
        f":86:/EREF/E2E{number:010d}//CNTP/NL32INGB0000012345/INGBNL2A/Leverancier "
        f"{number % 31}/AMSTERDAM//REMI/USTD//Factuur {number:08d} per 2024-01/\n"
    )
    return -amount, text


def generate(transactions: int) -> str:
    """An MT940 file with `transactions` entries whose statements balance."""
    parts: list[str] = []
    balance = Decimal("100000.00")
    number = 0
    statement = 0
    while number < transactions:
        statement += 1
        entries: list[str] = []
        total = Decimal(0)
        for _ in range(min(ENTRIES_PER_STATEMENT, transactions - number)):
            amount, text = (_german_entry if number % 2 == 0 else _ing_entry)(number)
            entries.append(text)
            total += amount
            number += 1
        closing = balance + total
        parts.append(
            f":20:BENCH{statement:06d}\n:25:NL77INGB0574908765EUR\n:28C:{statement}/1\n"
            f":60F:C240101EUR{balance:.2f}\n".replace(".", ",") + "".join(entries)
            + f":62F:C240102EUR{closing:.2f}\n-\n".replace(".", ",")
        )
        balance = closing
    return "".join(parts)


def _ours(text: str) -> int:
    statements, diagnostics = parse_mt940(text)
    if diagnostics:
        raise SystemExit(f"unexpected diagnostics: {diagnostics[:3]}")
    return sum(len(s.transactions) for s in statements)


def _library(text: str) -> int:
    return len(mt940.models.Transactions().parse(text))


def _best_time(run: Callable[[str], int], text: str, repeat: int) -> tuple[float, int]:
    """Best CPU time of `repeat` runs: process time, so other load on the machine does not
    count against either parser."""
    best = float("inf")
    count = 0
    for _ in range(repeat):
        started = time.process_time()
        count = run(text)
        best = min(best, time.process_time() - started)
    return best, count


def _peak_memory(run: Callable[[str], int], text: str) -> int:
    tracemalloc.start()
    try:
        run(text)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main(argv: list[str] | None = None) -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    options.add_argument("--transactions", type=int, default=100_000)
    options.add_argument("--repeat", type=int, default=3)
    args = options.parse_args(argv)
    text = generate(args.transactions)
    print(f"MT940 file: {args.transactions} transactions, {len(text) / 1e6:.1f} MB, "
          f"{text.count(':20:')} statements")
    results = {}
    for name, run in (("recon parse_mt940", _ours), ("mt940 library (bare)", _library)):
        seconds, count = _best_time(run, text, args.repeat)
        peak = _peak_memory(run, text)
        results[name] = seconds
        print(f"{name:22s} {count:>8d} tx {seconds:7.2f} CPU-s "
              f"{count / seconds:>9,.0f} tx/CPU-s  peak {peak / 2**20:7.1f} MiB")
    ratio = results["mt940 library (bare)"] / results["recon parse_mt940"]
    print(f"speed-up over the bare library: {ratio:.2f}x")


if __name__ == "__main__":
    main()
