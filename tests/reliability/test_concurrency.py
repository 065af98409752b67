"""Four `recon match` processes at once on PostgreSQL: nothing applied twice, nothing lost.

The small, fast version of `python -m tests.benchmarks.concurrency`. The `postgres_url`
fixture makes the test fail (not skip) in CI when PostgreSQL is unreachable; the run itself
uses a throw-away database of its own, because the workers are separate processes that need
committed data, not the per-test truncated database of the `db` fixture.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from reconciler.db.bank import TransactionRow
from reconciler.demo import DemoConfig
from tests.reliability import dataset
from tests.reliability.concurrent import run_workers

WORKERS = 4


def test_four_workers_apply_each_payment_once(postgres_url: str, tmp_path: Path) -> None:
    config = DemoConfig(seed=5, payments=240, open_items=360, customers=40)
    folder = dataset.make_demo(tmp_path / "data", config)
    with dataset.postgres_database(dataset.ADMIN_URL) as url:
        dataset.without_commit_flush(dataset.ADMIN_URL, url)  # a faster test, same locking
        db = dataset.fresh_database(url)
        dataset.load_master_data(db, folder)
        dataset.load_bank_files(db, dataset.bank_files(folder))
        with db.session() as session:
            credits = session.scalar(select(func.count()).select_from(TransactionRow)
                                     .where(TransactionRow.state == "unreconciled"))
        # Started together: a worker matches 240 lines in well under a second now, so a
        # stagger let the first one finish before the others had read their snapshots.
        result = run_workers(db, url, WORKERS, stagger=0.0, cwd=tmp_path)
        with db.session() as session:
            decided = session.scalar(select(func.count()).select_from(TransactionRow)
                                     .where(TransactionRow.state == "unreconciled"))
        db.dispose()
    failed = [check.line() for check in result.checks if not check.ok]
    assert not failed, "\n".join(failed)
    assert credits and credits > 150
    assert decided == 0  # every credit was decided by one worker or another
    summaries = [worker.summary for worker in result.workers]
    assert all(s.startswith("matched ") for s in summaries), summaries
    # The workers really overlapped: some of them found lines another one had taken.
    assert any("skipped" in s for s in summaries), summaries
