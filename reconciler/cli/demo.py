"""`recon demo`: the whole server on a synthetic data set, from nothing, in one command.

It generates customers, open items and a fortnight of MT940 / camt.053 / camt.054 files with
the noise real payments carry, builds a fresh SQLite database from them exactly as a user
would (init, imports, statement import, matching, dunning), prints what it did and serves the
review UI. The data set's ground truth (truth.csv) lets you check every automatic decision.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from reconciler.cli.context import CommandGroups, Context
from reconciler.db.session import Database, init_database
from reconciler.settings import Settings

T = TypeVar("T")
DEMO_USER = "demo"
DEMO_PASSWORD = "demo-demo"  # passwords have at least 8 characters


def register(groups: CommandGroups) -> None:
    parser = groups.command("demo", cmd_demo, "build a demo database and serve the UI on it")
    parser.add_argument("--folder", type=Path, default=Path("recon-demo"),
                        help="where the generated files and the database go (default: "
                             "./recon-demo)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--customers", type=int, default=120)
    parser.add_argument("--open-items", type=int, default=1500)
    parser.add_argument("--payments", type=int, default=400)
    parser.add_argument("--no-serve", action="store_true", help="build, report and stop")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)


def cmd_demo(ctx: Context, args: argparse.Namespace) -> int:
    from reconciler.demo import DemoConfig, generate, write_demo_files

    folder: Path = args.folder
    folder.mkdir(parents=True, exist_ok=True)
    database_path = folder / "demo.db"
    for stale in folder.glob("demo.db*"):
        stale.unlink()  # a demo always starts from scratch
    settings = dataclasses.replace(ctx.settings, database_url=f"sqlite:///{database_path}",
                                   data_dir=str(folder / "var"))
    db = Database(settings.database_url)
    try:
        config = DemoConfig(seed=args.seed, customers=args.customers,
                            open_items=args.open_items, payments=args.payments)
        files = step("generating the data set",
                     lambda: write_demo_files(generate(config), folder))
        # The camt.053 statements carry every payment; the camt.054 advices announce some of
        # them again and must link to, not double, them. The MT940 files hold the same days
        # for `recon parse` (importing both would be a second bank's copy of the account).
        _build(db, settings, folder, [*files.camt053, *files.camt054],
               config.start + dt.timedelta(days=config.days))
        if args.no_serve:
            return 0
        _serve(db, settings, args.host, args.port)
    finally:
        db.dispose()
    return 0


def step(label: str, action: Callable[[], T]) -> T:
    started = time.perf_counter()
    print(f"{label} ...", end="", flush=True)
    result = action()
    print(f" done ({time.perf_counter() - started:.1f} s)", flush=True)
    return result


def _build(db: Database, settings: Settings, folder: Path, bank_files: list[Path],
           today: dt.date) -> None:
    from reconciler.dunning import run_dunning
    from reconciler.engine import run_matching
    from reconciler.masterdata import import_customers, import_open_items
    from reconciler.statements import import_file

    step("creating the database", lambda: init_database(db))
    customers = step("importing customers.csv",
                     lambda: import_customers(db, folder / "customers.csv"))
    items = step("importing open_items.csv",
                 lambda: import_open_items(db, folder / "open_items.csv"))
    print(f"  {customers.line()}\n  {items.line()}")

    def import_all() -> list[str]:
        return [import_file(db, path.read_bytes(), path.name).status for path in bank_files]

    statuses = step(f"importing {len(bank_files)} bank files", import_all)
    print(f"  {statuses.count('imported')} imported, {statuses.count('duplicate')} duplicates, "
          f"{statuses.count('quarantined')} quarantined")
    summary = step("matching payments to open items", lambda: run_matching(db, settings))
    print(f"  {summary.lines} payments: {summary.auto} applied automatically "
          f"({summary.auto_rate:.1%}), {summary.suggested} suggested for review, "
          f"{summary.unmatched} unmatched")
    report = step(f"dunning run of {today}", lambda: run_dunning(db, settings, today))
    skipped = ", ".join(f"{n} {reason}" for reason, n in report.skip_counts().items() if n)
    print(f"  {len(report.actions)} dunning actions; skipped: {skipped or 'none'}")
    print(f"demo database: {db.url} (ground truth: {folder / 'truth.csv'})")


def _serve(db: Database, settings: Settings, host: str, port: int) -> None:
    from reconciler import users
    from web import create_app, serve

    with db.transaction() as session:
        users.add_user(session, DEMO_USER, "admin", DEMO_PASSWORD, actor="system:demo")
    print(f"log in as {DEMO_USER} / {DEMO_PASSWORD}; Ctrl-C stops the server")
    serve(create_app(settings, db), host, port, threads=settings.web.threads)
