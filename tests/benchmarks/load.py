"""Load: the web UI and JSON API under concurrent users while a match run goes on.

Builds a throw-away PostgreSQL database with 100,000 pending suggestions (the data set of
`tests.benchmarks.queue_page`) plus a demo day book (customers, open items, camt.053 files)
for a real `recon match` to chew on, starts `recon serve` (waitress) on a free loopback port
in a subprocess, signs in as an admin created through `reconciler.users`, and drives the queue
page, detail pages and API lists from `--concurrency` client threads (keep-alive
`http.client`, loopback only) for `--seconds`, bounded by `--max-requests` too. A `recon
match` subprocess starts with the load. Prints requests per second and p50/p95/p99 latency
per endpoint, then drops the database.

    python -m tests.benchmarks.load [--seconds 30] [--concurrency 8] [--proposals 100000]
        [--match-payments 3000] [--postgres-admin URL] [--threads 8]

The client threads share the machine's cores with the server and PostgreSQL: the figures
are what one small box serves to itself, a floor for a real deployment.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text

from reconciler import users
from reconciler.db.session import Database, init_database
from tests.pgtools import throwaway_database

ROOT = Path(__file__).resolve().parents[2]
ADMIN_URL = os.environ.get("RECON_TEST_POSTGRES_URL",
                           "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
USER, PASSWORD = "loadtest", "load-test-password-1"


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, name: str, seconds: float, ok: bool) -> None:
        with self.lock:
            self.latencies.setdefault(name, []).append(seconds)
            if not ok:
                self.errors[name] = self.errors.get(name, 0) + 1


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fill(url: str, proposals: int, match_payments: int, folder: Path) -> None:
    from reconciler.demo import DemoConfig, build_demo
    from reconciler.masterdata import import_customers, import_open_items
    from reconciler.statements import import_file
    from tests.benchmarks.queue_page import fill as fill_queue

    db = Database(url)
    init_database(db)
    started = time.perf_counter()
    fill_queue(db, proposals)
    with db.transaction() as s:
        # The queue data set writes transaction ids itself: move the sequences past them.
        s.execute(text("SELECT setval(pg_get_serial_sequence('transactions', 'id'), "
                       "(SELECT max(id) FROM transactions))"))
        # Its proposals name match run 1, which no row holds: the real run must not be 1.
        s.execute(text("SELECT setval(pg_get_serial_sequence('match_runs', 'id'), 1)"))
        users.add_user(s, USER, "admin", PASSWORD, actor="cli")
    print(f"filled {proposals:,} pending proposals in {time.perf_counter() - started:.1f} s",
          flush=True)
    analyze(db)
    if match_payments:
        started = time.perf_counter()
        demo = build_demo(folder / "demo", DemoConfig(seed=3, payments=match_payments,
                                                      customers=500,
                                                      open_items=match_payments * 2),
                          formats=("camt053",))
        import_customers(db, demo.customers)
        import_open_items(db, demo.open_items)
        for path in demo.camt053:
            import_file(db, path.read_bytes(), path.name)
        print(f"imported a demo day book of {match_payments:,} payments for the match run in "
              f"{time.perf_counter() - started:.1f} s", flush=True)
        analyze(db)
    db.dispose()


def analyze(db: Database) -> None:
    """Planner statistics after a bulk fill, as autovacuum would gather them within minutes
    on a live server; without them the first queries plan for empty tables."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))


class Client:
    """One keep-alive connection carrying the signed-in session cookie."""

    def __init__(self, port: int, cookie: str = "") -> None:
        self.port, self.cookie = port, cookie
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method: str, url: str, body: str | None = None,
                headers: dict[str, str] | None = None
                ) -> tuple[int, bytes, http.client.HTTPResponse]:
        all_headers = {"Cookie": self.cookie} if self.cookie else {}
        all_headers.update(headers or {})
        try:
            self.conn.request(method, url, body=body, headers=all_headers)
            response = self.conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionError):
            self.conn.close()  # the server closed a kept-alive connection: one retry
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            self.conn.request(method, url, body=body, headers=all_headers)
            response = self.conn.getresponse()
        return response.status, response.read(), response

    def close(self) -> None:
        self.conn.close()


def _cookie_of(response: http.client.HTTPResponse) -> str | None:
    header = response.getheader("Set-Cookie") or ""
    match = re.match(r"(recon_session=[^;]+)", header)
    return match.group(1) if match else None


def sign_in(port: int) -> str:
    client = Client(port)
    status, page, response = client.request("GET", "/login")
    token = re.search(rb'name="csrf_token" value="([^"]+)"', page)
    cookie = _cookie_of(response)
    assert status == 200 and token and cookie, "the login page carries a CSRF token"
    client.cookie = cookie
    form = urllib.parse.urlencode({"name": USER, "password": PASSWORD,
                                   "csrf_token": token.group(1).decode()})
    status, _, response = client.request(
        "POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded"})
    cookie = _cookie_of(response)
    assert status == 302 and cookie, f"sign-in failed with HTTP {status}"
    client.close()
    return cookie


def endpoints(port: int, cookie: str) -> dict[str, list[str]]:
    """The URLs to drive, by endpoint: real ids read from the API."""
    client = Client(port, cookie)
    status, body, _ = client.request("GET", "/api/v1/queue")
    assert status == 200, f"/api/v1/queue answered {status}"
    page = json.loads(body)
    proposals = [entry["proposal"]["id"] for entry in page["entries"]]
    transactions = [entry["transaction"]["id"] for entry in page["entries"]]
    deep = f"/queue?after={page['next']}" if page.get("next") else "/queue"
    client.close()
    return {
        "queue page": ["/queue"],
        "queue page 2 (keyset)": [deep],
        "queue filtered": ["/queue?min_confidence=0.5&max_confidence=0.6"],
        "proposal detail": [f"/queue/{p}" for p in proposals],
        "transaction detail": [f"/transactions/{t}" for t in transactions],
        "API queue list": ["/api/v1/queue"],
        "API proposal": [f"/api/v1/proposals/{p}" for p in proposals],
        "API exceptions list": ["/api/v1/exceptions"],
        "API customers list": ["/api/v1/customers?q=Customer"],
    }


def drive(port: int, cookie: str, urls: dict[str, list[str]], deadline: float,
          budget: list[int], stats: Stats, seed: int) -> None:
    rng = random.Random(seed)
    client = Client(port, cookie)
    names = sorted(urls)
    try:
        while time.perf_counter() < deadline:
            with stats.lock:
                if budget[0] <= 0:
                    return
                budget[0] -= 1
            name = rng.choice(names)
            started = time.perf_counter()
            try:
                status, _, _ = client.request("GET", rng.choice(urls[name]))
            except OSError:  # a timeout counts as a failed request; start a new connection
                status = 0
                client.close()
                client = Client(port, cookie)
            stats.add(name, time.perf_counter() - started, status == 200)
    finally:
        client.close()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def wait_until_up(port: int, server: subprocess.Popen[bytes], seconds: float = 60) -> None:
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with code {server.returncode}")
        try:
            status, _, _ = Client(port).request("GET", "/healthz")
            if status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not answer /healthz in time")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--max-requests", type=int, default=200_000)
    parser.add_argument("--proposals", type=int, default=100_000)
    parser.add_argument("--match-payments", type=int, default=3000,
                        help="payments in the day book the concurrent match run works on "
                             "(0: no match run)")
    parser.add_argument("--match-wait", type=float, default=60,
                        help="seconds to let the match run finish after the load")
    parser.add_argument("--threads", type=int, default=8, help="waitress worker threads")
    parser.add_argument("--postgres-admin", default=ADMIN_URL)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder, \
            throwaway_database(args.postgres_admin, prefix="recon_load") as url:
        fill(url, args.proposals, args.match_payments, Path(folder))
        env = {**os.environ, "RECON_DATABASE_URL": url, "RECON_DATA_DIR": f"{folder}/var"}
        env.pop("RECON_CONFIG", None)
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "reconciler.cli", "serve", "--host", "127.0.0.1",
             "--port", str(port), "--threads", str(args.threads)],
            cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        matcher: subprocess.Popen[str] | None = None
        try:
            wait_until_up(port, server)
            cookie = sign_in(port)
            warm = time.perf_counter()
            urls = endpoints(port, cookie)
            print(f"first API queue page (cold): {time.perf_counter() - warm:.2f} s", flush=True)
            stats = Stats()
            budget = [args.max_requests]
            if args.match_payments:
                matcher = subprocess.Popen([sys.executable, "-m", "reconciler.cli", "match"],
                                           cwd=folder, env=env, stdout=subprocess.PIPE,
                                           stderr=subprocess.STDOUT, text=True)
            match_started = began = time.perf_counter()
            deadline = began + args.seconds
            workers = [threading.Thread(target=drive, args=(port, cookie, urls, deadline,
                                                            budget, stats, n))
                       for n in range(args.concurrency)]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            elapsed = time.perf_counter() - began
            report(stats, elapsed, args)
            if matcher is not None:
                running = matcher.poll() is None
                try:  # let it finish (bounded) to report what it did
                    out, _ = matcher.communicate(timeout=args.match_wait)
                except subprocess.TimeoutExpired:
                    matcher.terminate()
                    out, _ = matcher.communicate(timeout=30)
                    out += f"\n(still matching {args.match_wait:.0f} s after the load: stopped)"
                took = time.perf_counter() - match_started
                when = "ran through the whole load" if running else "ended during the load"
                print(f"match run (recon match, exit {matcher.returncode}) {when}; "
                      f"{took:.0f} s in all: {out.strip().splitlines()[-3:]}")
        finally:
            for process in (matcher, server):
                if process is not None and process.poll() is None:
                    process.terminate()
                    try:
                        process.wait(timeout=30)
                    except subprocess.TimeoutExpired:
                        process.kill()
                        process.wait()
    return 0


def report(stats: Stats, elapsed: float, args: argparse.Namespace) -> None:
    total = sum(len(v) for v in stats.latencies.values())
    errors = sum(stats.errors.values())
    print(f"{total:,} requests in {elapsed:.1f} s from {args.concurrency} client threads to "
          f"{args.threads} server threads: {total / elapsed:,.1f} requests/s, {errors} not "
          f"HTTP 200; {args.proposals:,} pending proposals; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"  {'endpoint':<24} {'requests':>8} {'rps':>7} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'p99 ms':>8} {'errors':>6}")
    for name in sorted(stats.latencies):
        values = stats.latencies[name]
        print(f"  {name:<24} {len(values):8d} {len(values) / elapsed:7.1f} "
              f"{percentile(values, 0.50) * 1000:8.1f} {percentile(values, 0.95) * 1000:8.1f} "
              f"{percentile(values, 0.99) * 1000:8.1f} {stats.errors.get(name, 0):6d}")


if __name__ == "__main__":
    sys.exit(main())
