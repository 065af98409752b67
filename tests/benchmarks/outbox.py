"""Outbox benchmark: derive postings from applications and deliver them to sinks.

    python -m tests.benchmarks.outbox [--applications 2000] [--postgres URL]

Creates N applications (two invoices, a discount and a bank charge each), then reports how
fast postings are derived and delivered, one file per posting to a file sink and one signed
POST per posting to a webhook on loopback. SQLite in a temporary folder unless --postgres
names an empty database.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from reconciler.db.session import Database, init_database
from reconciler.outbox import deliver, prepare
from reconciler.settings import Secret, Settings, SinkSettings
from tests.connectors.factory import apply, payment_with_items


class Accept(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--applications", type=int, default=2000)
    parser.add_argument("--postgres", metavar="URL")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="outbox-bench-"))
    db = Database(args.postgres or f"sqlite:///{folder / 'bench.db'}")
    init_database(db)
    started = time.perf_counter()
    for n in range(args.applications):
        apply(db, payment_with_items(db, tag=str(n)))
    setup = time.perf_counter() - started

    started = time.perf_counter()
    postings, _ = prepare(db, Settings())
    derive = time.perf_counter() - started

    server = ThreadingHTTPServer(("127.0.0.1", 0), Accept)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    os.environ["BENCH_HOOK_SECRET"] = "bench"
    for name, sink in (
            ("file", SinkSettings(kind="file", format="json", path=str(folder / "out"))),
            ("webhook", SinkSettings(kind="webhook", secret=Secret(env="BENCH_HOOK_SECRET"),
                                     url=f"http://127.0.0.1:{server.server_address[1]}/"))):
        settings = Settings(sinks={name: sink})
        started = time.perf_counter()
        [report] = deliver(db, settings, limit=args.applications + 1)
        seconds = time.perf_counter() - started
        print(f"deliver to {name:8}: {report.delivered} postings in {seconds:.2f} s = "
              f"{report.delivered / seconds:,.0f} postings/s")
    server.shutdown()
    print(f"setup: {args.applications} applications in {setup:.1f} s; derive: {postings} "
          f"postings in {derive:.2f} s = {postings / derive:,.0f} postings/s "
          f"({db.engine.dialect.name})")
    db.dispose()


if __name__ == "__main__":
    main()
