"""Several `recon match` processes over the same payments at once, then the money checks.

Each worker is a real `python -m reconciler.cli match` process on the same PostgreSQL
database. Worker k starts `stagger * k` seconds after the first, so the later ones build their
candidate view from a ledger that the earlier ones are already changing: their proposals are
computed against open amounts that move under them, which is exactly what the claim
(`FOR UPDATE SKIP LOCKED`) and the re-check under lock in `reconciler.applying` must handle.
"""

from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from reconciler.db.session import Database
from tests.reliability.dataset import child_env, recon_command
from tests.reliability.invariants import Check, money_checks, scalar

SUMMARY = re.compile(r"matched ([\d,]+) lines .*")


@dataclass(frozen=True, slots=True)
class WorkerResult:
    worker: int
    started_after: float
    seconds: float
    exit_code: int
    summary: str
    error_tail: str


@dataclass(frozen=True, slots=True)
class ConcurrentRun:
    workers: tuple[WorkerResult, ...]
    wall_seconds: float
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks) and all(w.exit_code == 0 for w in self.workers)


def run_workers(db: Database, url: str, workers: int, stagger: float, cwd: Path, *,
                late: bool = True) -> ConcurrentRun:
    """Start the workers (staggered), wait for all, run the invariant checks.

    `late`: the last worker starts only once the others have committed their first
    applications, so its whole candidate view is stale by the time it writes: every proposal
    it makes for an item the others settled meanwhile must be caught by the re-check."""
    env = child_env(url)
    started = time.monotonic()
    running: list[tuple[int, float, float, subprocess.Popen[str], Path, Path]] = []
    for number in range(workers):
        delay = stagger * number - (time.monotonic() - started)
        if delay > 0:
            time.sleep(delay)
        if late and workers > 1 and number == workers - 1:
            _wait_for_first_applications(db, [r[3] for r in running])
        out, err = cwd / f"worker{number}.out", cwd / f"worker{number}.err"
        with out.open("w") as out_file, err.open("w") as err_file:
            process = subprocess.Popen(recon_command("match"), env=env, cwd=cwd,
                                       stdout=out_file, stderr=err_file, text=True)
        running.append((number, time.monotonic() - started, time.monotonic(), process, out,
                        err))
    results = []
    for number, after, at, process, out, err in running:
        code = process.wait(timeout=7200)
        stdout = out.read_text(encoding="utf-8", errors="replace")
        found = SUMMARY.search(stdout)
        tail = err.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:]
        results.append(WorkerResult(number, after, time.monotonic() - at, code,
                                    found.group(0) if found else stdout.strip()[-300:],
                                    " | ".join(tail) if code else ""))
    wall = time.monotonic() - started
    checks = list(money_checks(db))
    failed = [r for r in results if r.exit_code != 0]
    checks.append(Check("every worker finished", not failed,
                        "; ".join(f"worker {r.worker} exit {r.exit_code}: {r.error_tail}"
                                  for r in failed) or f"{len(results)} workers exit 0"))
    return ConcurrentRun(tuple(results), wall, tuple(checks))


def _wait_for_first_applications(db: Database, others: list[subprocess.Popen[str]]) -> None:
    while all(p.poll() is None for p in others):
        if int(str(scalar(db, "SELECT COUNT(*) FROM applications"))) >= 10:
            return
        time.sleep(0.2)
