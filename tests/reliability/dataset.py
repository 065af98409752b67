"""Demo data for the reliability runs, throw-away databases, and the victim subprocess.

The data comes from the project's own generator (`reconciler.demo`): customers, open items
and a run of business days of bank files, written to a folder and loaded through the same
services as `recon import ...` uses.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import parsers
from reconciler.db.session import Database, init_database
from reconciler.demo import DemoConfig, generate, write_demo_files
from tests.pgtools import throwaway_database
from tests.reliability.invariants import StatementKey

ADMIN_URL = os.environ.get(
    "RECON_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REPO = Path(__file__).resolve().parents[2]


def _write(config: DemoConfig, folder: Path, formats: tuple[str, ...]) -> None:
    write_demo_files(generate(config), folder, formats=formats)


def make_demo(folder: Path, config: DemoConfig,
              formats: tuple[str, ...] = ("camt053",)) -> Path:
    """Generate and write the demo files in a child process (the generator's memory is
    returned to the system before the server's work is measured)."""
    child = multiprocessing.get_context("fork").Process(target=_write,
                                                        args=(config, folder, formats))
    child.start()
    child.join()
    if child.exitcode != 0:
        raise RuntimeError("generating the demo data failed")
    return folder


def load_master_data(db: Database, folder: Path) -> None:
    from reconciler.masterdata.customers import import_customers
    from reconciler.masterdata.open_items import import_open_items

    import_customers(db, folder / "customers.csv")
    import_open_items(db, folder / "open_items.csv")


def load_bank_files(db: Database, paths: Sequence[Path]) -> int:
    from reconciler.statements import import_file

    new = 0
    for path in paths:
        result = import_file(db, path.read_bytes(), path.name)
        if result.status != "imported":
            raise RuntimeError(f"{path.name}: {result.status}: {result.message}")
        new += result.transactions_new
    return new


def bank_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir()
                  if p.suffix in (".xml", ".sta") and p.name.startswith(("camt", "mt940")))


def expected_statements(paths: Sequence[Path]) -> dict[StatementKey, int]:
    """What a complete import stores: transactions per statement key, parsed here directly."""
    expected: dict[StatementKey, int] = {}
    for path in paths:
        result = parsers.parse(path.read_bytes(), filename=path.name)
        for statement in result.statements:
            key = (statement.account or "", statement.statement_id or "",
                   statement.sequence or "", statement.kind.value)
            expected[key] = len(statement.transactions)
    return expected


# --- databases --------------------------------------------------------------------------


def postgres_database(admin_url: str = ADMIN_URL, *, template: str | None = None,
                      prefix: str = "recon_reliability") -> AbstractContextManager[str]:
    """A throw-away PostgreSQL database (a copy of `template` when given), dropped after."""
    return throwaway_database(admin_url, prefix=prefix, template=template)


def database_name(url: str) -> str:
    return str(make_url(url).database)


def without_commit_flush(admin_url: str, url: str) -> None:
    """`synchronous_commit = off` for this throw-away database only: commits stop waiting for
    the WAL flush, while locks and visibility (what the concurrency proofs are about) stay
    the same."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{database_name(url)}" SET synchronous_commit = off'))
    admin.dispose()


def fresh_database(url: str) -> Database:
    db = Database(url)
    init_database(db)
    return db


# --- the victim -------------------------------------------------------------------------


def recon_command(*args: str) -> list[str]:
    """`recon ARGS` as a real child process: the command line a server operator runs."""
    return [sys.executable, "-m", "reconciler.cli", *args]


def child_env(url: str, config: Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["RECON_DATABASE_URL"] = url
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    if config is not None:
        env["RECON_CONFIG"] = str(config)
    else:
        env.pop("RECON_CONFIG", None)
    return env


def run(command: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True,
                          check=False, timeout=900)
