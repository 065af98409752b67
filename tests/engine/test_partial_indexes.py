"""The indexes a matcher run leaves as it decides: lines not applied, items not closed.

A decision that applies a line and closes its items would move their entries inside full
indexes on state, status and open amount; the partial indexes only lose them. The queries that
look for lines or items still to be worked on must still find them through those indexes, not
by reading every row: SQLite (unlike PostgreSQL, which proves the implication itself) uses a
partial index only when the query repeats its condition, so these checks run on SQLite.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from reconciler.db.bank import TransactionRow
from reconciler.db.session import Database
from reconciler.dunning import _pending_payments
from reconciler.snapshot import load_snapshot
from tests.engine.builders import add_customer, add_item, add_payment
from web.queries.activity import dashboard
from web.queries.records import candidate_items, search_exceptions


@contextmanager
def _statements(db: Database) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def _plans(db: Database, run: Callable[[Session], object], mentioning: str) -> list[str]:
    """The query plans of the statements `run` sends that mention `mentioning`."""
    with db.session() as session, _statements(db) as seen:
        run(session)
    plans = []
    with db.engine.connect() as connection:
        driver: Any = connection.connection.driver_connection
        for statement, parameters in seen:
            if mentioning in statement:
                rows = driver.execute(f"EXPLAIN QUERY PLAN {statement}", parameters).fetchall()
                plans.append(" | ".join(str(row[-1]) for row in rows))
    assert plans, f"no statement mentioning {mentioning}"
    return plans


def _ledger(db: Database) -> None:
    with db.transaction() as session:
        add_customer(session, "C1", "Acme GmbH")
        add_item(session, "INV-1", "C1", "100.00")
        add_payment(session, "100.00", name="Unknown payer")


def test_queries_for_lines_still_to_work_on_use_the_state_index(sqlite_db: Database) -> None:
    _ledger(sqlite_db)
    runs: list[Callable[[Session], object]] = [
        lambda s: search_exceptions(s, {}),
        lambda s: dashboard(s, dt.date(2026, 11, 23), "EUR"),
        _pending_payments,
        load_snapshot,
    ]
    for run in runs:
        for plan in _plans(sqlite_db, run, "transactions.state IN"):
            assert "ix_transactions_state_amount" in plan, plan


def test_open_items_by_amount_use_the_open_amount_index(sqlite_db: Database) -> None:
    _ledger(sqlite_db)

    def candidates(session: Session) -> object:
        line = session.scalars(select(TransactionRow)).one()
        assert line.counterparty_iban is None  # so the look-up goes by amount
        return candidate_items(session, line)

    for plan in _plans(sqlite_db, candidates, "open_items.open_amount ="):
        assert "ix_open_items_open_amount" in plan, plan
