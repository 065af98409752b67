"""End to end on a small generated data set with ground truth: import, match, export."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from reconciler import journal
from reconciler.db.bank import TransactionRow
from reconciler.db.ledger import OpenItemRow
from reconciler.db.matching import ApplicationLineRow, ApplicationRow
from reconciler.db.session import Database
from reconciler.demo import DemoConfig, generate, write_demo_files
from reconciler.engine import run_matching
from reconciler.export import export_matches
from reconciler.masterdata.customers import import_customers
from reconciler.masterdata.open_items import import_open_items
from reconciler.settings import Settings
from tests.engine.builders import insert_payments


def test_demo_data_set_end_to_end(db: Database, tmp_path: Path) -> None:
    data = generate(DemoConfig(seed=11, customers=40, open_items=400, payments=120))
    files = write_demo_files(data, tmp_path, formats=("camt053",))
    import_customers(db, files.customers)
    import_open_items(db, files.open_items)
    insert_payments(db, data.payments)
    credits = sum(1 for p in data.payments if p.amount > 0)

    summary = run_matching(db, Settings(database_url=db.url))
    assert summary.lines == credits
    assert summary.auto + summary.suggested + summary.unmatched == credits
    assert summary.auto > credits // 2  # most of a realistic day is applied without a person

    truth = {t.bank_reference: t for t in data.truth}
    with db.session() as s:
        references = {i: r for i, r in s.execute(select(TransactionRow.id,
                                                         TransactionRow.bank_reference))}
        amounts = {i: a for i, a in s.execute(select(TransactionRow.id, TransactionRow.amount))}
        documents = {i: d for i, d in s.execute(select(OpenItemRow.id,
                                                      OpenItemRow.document_number))}
        applied: dict[int, set[tuple[str, Decimal]]] = defaultdict(set)
        cash: dict[int, Decimal] = defaultdict(Decimal)
        for application, line in s.execute(select(ApplicationRow, ApplicationLineRow).join(
                ApplicationLineRow, ApplicationLineRow.application_id == ApplicationRow.id)):
            assert application.status == "auto"
            if line.kind != "discount":
                cash[application.transaction_id] += line.amount  # what moved as cash
            if line.kind == "item":
                assert line.item_id is not None  # an item line names its item
                applied[application.transaction_id].add((documents[line.item_id], line.amount))
        # Per transaction: applied + adjustments + unapplied = amount, exactly.
        assert all(total == amounts[tx] for tx, total in cash.items())
        # No item crossed zero.
        assert all(i.open_amount * i.amount >= 0 for i in s.scalars(select(OpenItemRow)))
        assert journal.verify(s).ok
    wrong = [references[tx] for tx, items in applied.items()
             if items != set(truth[references[tx]].settled)]
    assert len(wrong) <= max(1, len(applied) // 100), wrong  # precision first

    out = io.StringIO()
    with db.session() as s:
        export_matches(s, out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    statuses: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        statuses[row["bank_reference"]].add(row["status"])
    assert len(statuses) == credits and all(len(s) == 1 for s in statuses.values())
    assert sum("auto" in s for s in statuses.values()) == summary.auto
