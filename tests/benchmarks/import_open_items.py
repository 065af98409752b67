"""Open-item import speed: a generated ERP export, imported fresh and then re-imported.

    python -m tests.benchmarks.import_open_items [--rows 1000000] [--url URL]

Without `--url` a SQLite file in a temporary folder is used. With a PostgreSQL URL the
benchmark creates a throw-away database on that server and drops it afterwards, so it never
touches the data of the database named in the URL. The re-import changes the open amount of
every other item (half paid) and closes every tenth, so it measures the update path.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

from reconciler.db.session import Database, init_database
from reconciler.masterdata import ImportSummary, import_customers, import_open_items
from reconciler.progress import Progress
from tests.pgtools import throwaway_database

HEADER = ("entity,document_number,document_type,customer_id,currency,amount,open_amount,"
          "issue_date,due_date,payment_reference,discount_rate,discount_due_date\n")
CUSTOMERS = 10_000


def write_customers(path: Path) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write("customer_id,name,ibans,parent_customer_id,segment,country,payment_terms\n")
        for n in range(CUSTOMERS):
            out.write(f"C{n:06d},Customer {n} GmbH,,,standard,DE,NET30\n")


def write_items(path: Path, rows: int, *, reimport: bool) -> None:
    start = dt.date(2026, 1, 1)
    with path.open("w", encoding="utf-8") as out:
        out.write(HEADER)
        for n in range(rows):
            issue = start + dt.timedelta(days=n % 300)
            due = issue + dt.timedelta(days=30)
            cents = 1000 + (n * 7919) % 5_000_000
            amount = f"{cents // 100}.{cents % 100:02d}"
            open_cents = cents
            if reimport and n % 2 == 0:
                open_cents = 0 if n % 10 == 0 else cents // 2
            is_credit = n % 50 == 49
            sign = "-" if is_credit else ""
            kind = "credit_note" if is_credit else "invoice"
            open_amount = f"{sign}{open_cents // 100}.{open_cents % 100:02d}"
            discount = ("0.02", (issue + dt.timedelta(days=10)).isoformat()) if n % 3 == 0 \
                else ("", "")
            out.write(f"MAIN,INV-{n:08d},{kind},C{n % CUSTOMERS:06d},EUR,{sign}{amount},"
                      f"{open_amount},{issue.isoformat()},{due.isoformat()},RF18INV{n:08d},"
                      f"{discount[0]},{discount[1]}\n")


def timed(label: str, rows: int, action: object) -> ImportSummary:
    started, cpu_started = time.perf_counter(), time.process_time()
    summary = action()  # type: ignore[operator]
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    print(f"  {label:<10} {rows:>9,} rows in {seconds:6.1f} s = {rows / seconds:>9,.0f} rows/s"
          f" (this process used {cpu:5.1f} s CPU)"
          f"   ({summary.inserted:,} inserted, {summary.updated:,} updated, "
          f"{summary.unchanged:,} unchanged, {summary.closed:,} closed)")
    return summary  # type: ignore[no-any-return]


def run(db: Database, rows: int, folder: Path) -> None:
    init_database(db)
    customers, fresh, again = folder / "customers.csv", folder / "fresh.csv", folder / "re.csv"
    write_customers(customers)
    write_items(fresh, rows, reimport=False)
    write_items(again, rows, reimport=True)
    print(f"open-item import, {db.engine.dialect.name}, {rows:,} rows "
          f"({fresh.stat().st_size / 1e6:,.0f} MB CSV)")
    import_customers(db, customers)
    timed("fresh", rows, lambda: import_open_items(
        db, fresh, progress=Progress("fresh import")))
    timed("re-import", rows, lambda: import_open_items(
        db, again, full=True, progress=Progress("re-import")))
    timed("unchanged", rows, lambda: import_open_items(db, again))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--url", help="database server URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="recon-bench-") as tmp:
        folder = Path(tmp)
        if not args.url or args.url.startswith("sqlite"):
            db = Database(f"sqlite:///{folder / 'bench.db'}")
            try:
                run(db, args.rows, folder)
            finally:
                db.dispose()
            return
        with throwaway_database(args.url, prefix="recon_bench") as url:
            db = Database(url)
            try:
                run(db, args.rows, folder)
            finally:
                db.dispose()


if __name__ == "__main__":
    main()
