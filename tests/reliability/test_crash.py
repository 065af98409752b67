"""kill -9 during import, matching, applying and outbox delivery: nothing half written.

The short version of `python -m tests.benchmarks.crash_loop`: on SQLite and on PostgreSQL,
each phase's victim (a real child process) is killed a few times at seeded random moments,
restarted, and finally run to its end; the checks of `tests.reliability.invariants` run after
every kill and every completed command.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.demo import DemoConfig
from tests.reliability import crash, dataset

KILLS_PER_PHASE = 1  # x 4 phases x 2 backends: 8 kills
CONFIG = DemoConfig(seed=4, payments=60, open_items=120, customers=20, days=5)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def bench(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[crash.Workbench]:
    store: crash.Store
    if request.param == "sqlite":
        store = crash.SqliteStore(tmp_path)
    else:
        request.getfixturevalue("postgres_url")  # fails in CI when PostgreSQL is unreachable
        store = crash.PostgresStore(dataset.ADMIN_URL, f"recon_crash_{uuid.uuid4().hex[:8]}")
    try:
        yield crash.prepare(store, tmp_path, CONFIG, seed=4)
    finally:
        store.close()


def test_kill_nine_leaves_nothing_half_written(bench: crash.Workbench) -> None:
    rng = random.Random(7)
    reports = [crash.run_phase(bench, phase, KILLS_PER_PHASE, rng) for phase in crash.PHASES]
    failures = [f"{r.phase}: {f}" for r in reports for f in r.failures]
    assert not failures, "\n".join(failures)
    for report in reports:
        assert report.kills == KILLS_PER_PHASE
        # The uncut round and the final restart at least reached the phase's completion checks.
        assert report.rounds >= 2
        assert report.passed.get("journal verifies", 0) >= KILLS_PER_PHASE + 2
    outbox = next(r for r in reports if r.phase == "outbox")
    assert outbox.passed.get("every posting delivered once", 0) >= 2
    imports = next(r for r in reports if r.phase == "import")
    assert imports.passed.get("import complete", 0) >= 2
