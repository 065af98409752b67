"""Crash safety: kill -9 the server's commands at random moments, then check what is stored.

Four phases, each starting from its own saved database state:

- import:  `recon import customers`, `recon import open-items`, `recon import statement` (all
           camt.053 and MT940 files of the demo, in a shuffled order), one after the other;
- match:   `recon match` over the imported payments;
- apply:   a reviewer's decisions (`python -m tests.reliability.victim apply`: accept
           suggestions, reverse automatic applications; the service calls the web UI makes);
- outbox:  `recon export postings` delivering every posting to a file sink.

A victim is a real child process, killed with SIGKILL at a random moment (seeded) of its work:
the delay runs from the moment it has the database open and is drawn up to the time an uncut
run of the same command worked. After each kill the stored
state is checked (the state a restart finds), then the same command is started again; when a
command runs to its end, the next one of the phase starts. When the last command of the phase
completes, the completion checks run and the database goes back to the phase's saved state.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text, update
from sqlalchemy.engine import make_url

from reconciler.db.outbox import OutboxDeliveryRow
from reconciler.db.session import Database, init_database
from reconciler.demo import DemoConfig
from tests.reliability import dataset, invariants
from tests.reliability.invariants import Check
from tests.reliability.victim import apply_decisions

PHASES = ("import", "match", "apply", "outbox")
SINK = "erp"


# --- where the database lives -----------------------------------------------------------


class SqliteStore:
    """A SQLite file; saved states are copies made with SQLite's online backup."""

    name = "sqlite"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / "work.db"
        self.url = f"sqlite:///{self.path}"

    def save(self, state: str) -> None:
        _backup(self.path, self.folder / f"{state}.db")

    def restore(self, state: str) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        _backup(self.folder / f"{state}.db", self.path)

    def close(self) -> None:
        return None


def _backup(source: Path, target: Path) -> None:
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


class PostgresStore:
    """A throw-away PostgreSQL database; saved states are template databases."""

    name = "postgresql"

    def __init__(self, admin_url: str, prefix: str) -> None:
        self.admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.prefix = prefix
        self.work = f"{prefix}_work"
        self.url = make_url(admin_url).set(database=self.work).render_as_string(
            hide_password=False)
        self._states: set[str] = set()
        self._sql(f'CREATE DATABASE "{self.work}"')

    def _sql(self, statement: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(statement))

    def _leave(self, database: str) -> None:
        # A killed victim's server process may still be closing: it must be gone before the
        # database can be copied or dropped.
        self._sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                  f"WHERE datname = '{database}' AND pid <> pg_backend_pid()")

    def save(self, state: str) -> None:
        name = f"{self.prefix}_{state}"
        self._leave(self.work)
        self._sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._sql(f'CREATE DATABASE "{name}" TEMPLATE "{self.work}"')
        self._states.add(name)

    def restore(self, state: str) -> None:
        self._sql(f'DROP DATABASE IF EXISTS "{self.work}" WITH (FORCE)')
        self._sql(f'CREATE DATABASE "{self.work}" TEMPLATE "{self.prefix}_{state}"')

    def close(self) -> None:
        for name in (self.work, *self._states):
            self._sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.admin.dispose()


Store = SqliteStore | PostgresStore


# --- the run ----------------------------------------------------------------------------


@dataclass
class PhaseReport:
    phase: str
    kills: int = 0
    completed_commands: int = 0
    rounds: int = 0  # the phase's whole work done, completion checks run
    passed: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    delays: list[float] = field(default_factory=list)
    kills_mid_work: int = 0  # kills after the victim had committed something of its work
    uncut_seconds: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def record(self, checks: list[Check], when: str) -> None:
        for check in checks:
            if check.ok:
                self.passed[check.name] = self.passed.get(check.name, 0) + 1
            else:
                self.failures.append(f"{when}: {check.name}: {check.detail}")

    @property
    def ok(self) -> bool:
        return not self.failures


@dataclass
class Workbench:
    """The demo data on disk, the settings file and the saved states of one store."""

    store: Store
    folder: Path
    data: Path
    config: Path
    outbox: Path
    files: list[Path]
    shas: dict[str, str]
    expected: dict[invariants.StatementKey, int]
    customer_ids: frozenset[str]
    documents: frozenset[str]
    startup: float = 0.0

    def database(self) -> Database:
        return Database(self.store.url)

    def env(self) -> dict[str, str]:
        return dataset.child_env(self.store.url, self.config)


def prepare(store: Store, folder: Path, config: DemoConfig, seed: int) -> Workbench:
    """Write the demo files and the settings, and save the state each phase starts from."""
    import csv
    import hashlib

    data = dataset.make_demo(folder / "data", config, formats=("camt053", "mt940"))
    files = dataset.bank_files(data)
    random.Random(seed).shuffle(files)
    outbox = folder / "outbox"
    settings = folder / "recon.toml"
    settings.write_text(f'data_dir = "{folder / "var"}"\n\n[sinks.{SINK}]\nkind = "file"\n'
                        f'format = "json"\npath = "{outbox}"\n', encoding="utf-8")
    with (data / "customers.csv").open(encoding="utf-8") as handle:
        customers = frozenset(row["customer_id"] for row in csv.DictReader(handle))
    with (data / "open_items.csv").open(encoding="utf-8") as handle:
        documents = frozenset(row["document_number"] for row in csv.DictReader(handle))
    bench = Workbench(
        store=store, folder=folder, data=data, config=settings, outbox=outbox, files=files,
        shas={hashlib.sha256(p.read_bytes()).hexdigest(): p.name for p in files},
        expected=dataset.expected_statements(files), customer_ids=customers,
        documents=documents)
    db = bench.database()
    init_database(db)
    db.dispose()
    store.save("import")
    db = bench.database()
    dataset.load_master_data(db, data)
    dataset.load_bank_files(db, files)
    db.dispose()
    store.save("match")
    result = dataset.run(dataset.recon_command("match"), bench.env(), folder)
    if result.returncode:
        raise RuntimeError(f"recon match failed: {result.stderr[-500:]}")
    store.save("apply")
    db = bench.database()
    apply_decisions(db, seed)
    db.dispose()
    store.save("outbox")
    started = time.monotonic()
    dataset.run(dataset.recon_command("--version"), bench.env(), folder)
    bench.startup = time.monotonic() - started
    return bench


def commands(bench: Workbench, phase: str) -> list[list[str]]:
    if phase == "import":
        return [dataset.recon_command("import", "customers", str(bench.data / "customers.csv")),
                dataset.recon_command("import", "open-items",
                                      str(bench.data / "open_items.csv")),
                dataset.recon_command("import", "statement", *map(str, bench.files))]
    if phase == "match":
        return [dataset.recon_command("match")]
    if phase == "apply":
        import sys

        return [[sys.executable, "-m", "tests.reliability.victim", "apply"]]
    return [dataset.recon_command("export", "postings")]


def checks(bench: Workbench, db: Database, phase: str, complete: bool) -> list[Check]:
    found = invariants.money_checks(db)
    if phase == "import":
        found += [
            invariants.files_imported_once(db, bench.shas),
            invariants.statements_complete(db, bench.expected),
            invariants.csv_import_atomic(db, "customers", "customer_id", bench.customer_ids,
                                         "import.customers"),
            invariants.csv_import_atomic(db, "open_items", "document_number", bench.documents,
                                         "import.open_items"),
        ]
        if complete:
            stored = invariants.scalar(db, "SELECT COUNT(*) FROM bank_files")
            statements = invariants.scalar(db, "SELECT COUNT(*) FROM statements")
            found.append(Check("import complete", stored == len(bench.files)
                               and statements == len(bench.expected),
                               f"{stored} of {len(bench.files)} files, {statements} of "
                               f"{len(bench.expected)} statements"))
    elif phase == "match" and complete:
        left = invariants.scalar(db, "SELECT COUNT(*) FROM transactions "
                                      "WHERE state = 'unreconciled'")
        found.append(Check("match complete: no line left undecided", left == 0, f"{left} left"))
    elif phase == "outbox":
        found += [invariants.postings_consistent(db),
                  invariants.delivered_once(db, SINK, bench.outbox, complete=complete)]
    return found


def claims_run_out(db: Database) -> None:
    """Stand-in for waiting: a killed deliverer's claim on its row (`claimed_until`, the
    sink's timeout x 2 + 30 s) would run out by itself; the loop moves it into the past
    instead of sleeping through it."""
    with db.transaction() as session:
        session.execute(update(OutboxDeliveryRow)
                        .where(OutboxDeliveryRow.claimed_until.is_not(None),
                               OutboxDeliveryRow.state == "pending")
                        .values(claimed_until=None))


class _Victim:
    """A command as a child process whose start-up can be told from its work: the work
    begins when it has the database open (the SQLite file, or a socket to PostgreSQL, among
    its open files in /proc)."""

    def __init__(self, bench: Workbench, command: list[str], env: dict[str, str]) -> None:
        self._sqlite = str(bench.store.path) if isinstance(bench.store, SqliteStore) else None
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed in finish)
        self.started = time.monotonic()
        self.process = subprocess.Popen(command, env=env, cwd=bench.folder,
                                        stdout=subprocess.DEVNULL, stderr=self._stderr)

    def age(self) -> float:
        return time.monotonic() - self.started

    def _has_database_open(self) -> bool:
        folder = f"/proc/{self.process.pid}/fd"
        try:
            names = os.listdir(folder)
        except OSError:
            return False
        for name in names:
            try:
                target = os.readlink(f"{folder}/{name}")
            except OSError:
                continue
            if self._sqlite is not None and target.startswith(self._sqlite):
                return True
            if self._sqlite is None and target.startswith("socket:"):
                return True
        return False

    def wait_for_database(self) -> float | None:
        """Seconds until the victim opened the database; None if it ended first."""
        if not os.path.isdir("/proc/self/fd"):
            return 0.0  # no /proc here: count the start-up as work
        while self.process.poll() is None:
            if self._has_database_open():
                return self.age()
            time.sleep(0.01)
        return None

    def kill_after(self, seconds: float) -> bool:
        """SIGKILL after `seconds` unless it ends first; True when it was killed."""
        try:
            self.process.wait(timeout=seconds)
            return False
        except subprocess.TimeoutExpired:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
            return True

    def finish(self) -> tuple[int, str]:
        code = self.process.wait()
        self._stderr.seek(0)
        text_ = self._stderr.read().decode("utf-8", errors="replace").strip()[-300:]
        self._stderr.close()
        return code, text_


def _journal_rows(db: Database) -> int:
    return int(str(invariants.scalar(db, "SELECT COUNT(*) FROM journal")))


def _reset(bench: Workbench, phase: str) -> None:
    bench.store.restore(phase)
    if bench.outbox.exists():
        for path in bench.outbox.iterdir():
            path.unlink()


def run_phase(bench: Workbench, phase: str, kills: int, rng: random.Random,
              log: Callable[[str], None] = lambda _: None) -> PhaseReport:
    report = PhaseReport(phase)
    started = time.monotonic()
    steps = commands(bench, phase)
    env = bench.env()
    _reset(bench, phase)
    work: list[float] = []
    for command in steps:  # one uncut round: the durations the kill delays are drawn from
        victim = _Victim(bench, command, env)
        opened = victim.wait_for_database()
        code, stderr = victim.finish()
        report.uncut_seconds.append(victim.age())
        work.append(max(victim.age() - (opened if opened is not None else 0.0), 0.05))
        if code:
            report.failures.append(f"uncut run of {command[3:5]} exited {code}: {stderr}")
    db = bench.database()
    report.record(checks(bench, db, phase, complete=True), "uncut round")
    db.dispose()
    report.rounds += 1
    _reset(bench, phase)
    step = 0
    # A master-data import is one transaction: killed at a random moment it is nearly always
    # killed before its commit, so the phase would never reach the commands after it. In a
    # phase of several commands each one is killed at most twice in a row, then run uncut.
    budget = 2 if len(steps) > 1 else kills
    kills_here = 0
    while report.kills < kills:
        db = bench.database()
        if phase == "outbox":
            claims_run_out(db)
        before = _journal_rows(db)
        db.dispose()
        # The kill lands at a random moment of the command's work: after its start-up (the
        # moment it opened the database), within the time an uncut run worked.
        victim = _Victim(bench, steps[step], env)
        opened = victim.wait_for_database()
        delay = rng.uniform(0.0, work[step])
        if kills_here >= budget:
            delay = 86400.0  # this one runs to its end
        killed = opened is not None and victim.kill_after(delay)
        code, stderr = victim.finish()
        if killed:
            kills_here += 1
            report.kills += 1
            report.delays.append(victim.age())
            db = bench.database()
            report.kills_mid_work += int(_journal_rows(db) > before)
            db.dispose()
            when = (f"kill {report.kills} {delay:.2f} s into the work "
                    f"({victim.age():.2f} s after the start)")
        else:
            report.completed_commands += 1
            kills_here = 0
            when = f"run of step {step + 1} to its end"
            if code:
                report.failures.append(f"{when}: exit {code}: {stderr}")
            step += 1
        db = bench.database()
        complete = step == len(steps)
        report.record(checks(bench, db, phase, complete=complete), when)
        db.dispose()
        log(f"{bench.store.name} {phase}: {when}: "
            f"{'ok' if report.ok else report.failures[-1]}")
        if complete:
            report.rounds += 1
            step = 0
            _reset(bench, phase)
    # The restart after the last kill runs to its end; then the completion checks.
    db = bench.database()
    if phase == "outbox":
        claims_run_out(db)
    db.dispose()
    for command in steps[step:]:
        result = dataset.run(command, env, bench.folder)
        if result.returncode:
            report.failures.append(f"final restart exited {result.returncode}: "
                                   f"{result.stderr.strip()[-300:]}")
    db = bench.database()
    report.record(checks(bench, db, phase, complete=True), "final restart")
    db.dispose()
    report.rounds += 1
    report.seconds = time.monotonic() - started
    return report


def summary_lines(store: str, report: PhaseReport) -> list[str]:
    mean = sum(report.delays) / len(report.delays) if report.delays else 0.0
    lines = [f"{store:<10} {report.phase:<7} kills {report.kills:>3} ({report.kills_mid_work} "
             f"after the victim had committed part of its work), commands run to their "
             f"end {report.completed_commands:>3}, rounds completed {report.rounds:>3}; uncut "
             f"{'+'.join(f'{s:.1f}' for s in report.uncut_seconds)} s, mean kill delay "
             f"{mean:.1f} s after the start; {report.seconds:.0f} s"]
    for name, count in sorted(report.passed.items()):
        lines.append(f"    ok   {name}: held {count} times")
    lines.extend(f"    FAIL {failure}" for failure in report.failures[:10])
    if len(report.failures) > 10:
        lines.append(f"    ... and {len(report.failures) - 10} more failures")
    return lines
