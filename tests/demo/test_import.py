"""The demo CSVs go through the project's own master-data import without a warning, on
SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from reconciler.db.session import Database
from reconciler.demo import DemoData, DemoFiles

masterdata = pytest.importorskip("reconciler.masterdata.customers",
                                 reason="the master-data import is not in this build")


def test_demo_csvs_import_cleanly(db: Database, demo_files: DemoFiles,
                                  demo_data: DemoData) -> None:
    from reconciler.masterdata.open_items import import_open_items

    customers = masterdata.import_customers(db, demo_files.customers)
    assert customers.rows == customers.inserted == len(demo_data.customers)
    assert not customers.warnings
    items = import_open_items(db, demo_files.open_items)
    assert items.rows == items.inserted == len(demo_data.open_items)
    assert not items.warnings
