"""The chain in forked workers decides exactly what it decides in one process."""

from __future__ import annotations

import dataclasses

import pytest

from reconciler import chain
from reconciler.db.session import Database
from reconciler.engine import run_matching
from reconciler.settings import Settings
from tests.engine.builders import add_customer, add_item, add_payment


def _ledger(db: Database, customers: int = 12) -> None:
    """Per customer: one payment by reference, one short by a bank charge, one of two items
    paid together, and a stranger's payment nobody can place."""
    with db.transaction() as s:
        for n in range(customers):
            iban = f"DE{n:02d}100100100006820{n:03d}"
            add_customer(s, f"C{n}", f"Customer {n} GmbH", (iban,))
            add_item(s, f"INV-{n:03d}-1", f"C{n}", f"{100 + n}.00")
            add_item(s, f"INV-{n:03d}-2", f"C{n}", f"{300 + n}.50")
            add_item(s, f"INV-{n:03d}-3", f"C{n}", f"{41 + n}.25")
            add_payment(s, f"{100 + n}.00", name=f"Customer {n} GmbH", iban=iban,
                        text=f"Rechnung INV-{n:03d}-1", bank_reference=f"REF{n}")
            add_payment(s, f"{341 + 2 * n}.75", name=f"CUSTOMER {n}", iban=iban,
                        text="Zahlung", bank_reference=f"SUM{n}")
            add_payment(s, f"{n}.99", name="Tax Office", iban="DE44500105175407324931",
                        text="Erstattung", bank_reference=f"TAX{n}")


def _with_workers(db: Database, workers: int) -> Settings:
    settings = Settings(database_url=db.url)
    return dataclasses.replace(settings, matching=dataclasses.replace(settings.matching,
                                                                      workers=workers))


def test_forked_workers_decide_like_one_process(db: Database,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    _ledger(db)
    monkeypatch.setattr(chain, "MIN_LINES_PER_WORKER", 1)
    monkeypatch.setattr(chain, "CHUNK", 4)  # 36 lines: nine tasks over two workers
    alone = run_matching(db, _with_workers(db, 1), dry_run=True)
    forked = run_matching(db, _with_workers(db, 2), dry_run=True)
    assert alone.lines == forked.lines == 36
    assert alone.auto >= 12  # the chain did find matches: the comparison means something
    assert forked.outcomes == alone.outcomes
    assert forked.diagnostics == alone.diagnostics


def test_worker_count_follows_cores_and_run_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chain.os, "cpu_count", lambda: 2)
    assert chain.worker_count(0, 100) == 1  # a small run is matched in the process itself
    assert chain.worker_count(0, 100_000) == 2  # one per core
    assert chain.worker_count(3, 100_000) == 3  # as configured
    assert chain.worker_count(64, 10**7) == chain.MAX_WORKERS
