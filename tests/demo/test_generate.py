from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from pathlib import Path

from reconciler.demo import (
    DemoConfig,
    DemoData,
    DemoFiles,
    Scenario,
    generate,
    write_demo_files,
)
from reconciler.demo.files import CUSTOMER_HEADER, OPEN_ITEM_HEADER
from reconciler.demo.names import name_variant
from reconciler.demo.scenario import DEBITS, UNSCALED
from reconciler.domain import DocumentType, PaymentTerms
from tests.demo.conftest import folder_bytes

SMALL = DemoConfig(customers=40, open_items=300, payments=120)


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    first = write_demo_files(generate(SMALL), tmp_path / "a")
    second = write_demo_files(generate(SMALL), tmp_path / "b")
    assert folder_bytes(first.folder) == folder_bytes(second.folder)
    assert len(first.all) == len(list(first.folder.iterdir()))


def test_another_seed_gives_other_data(tmp_path: Path) -> None:
    first = write_demo_files(generate(SMALL), tmp_path / "a")
    other = write_demo_files(generate(DemoConfig(**{**SMALL.__dict__, "seed": 43})),
                             tmp_path / "b")
    for name in ("customers.csv", "open_items.csv", "truth.csv"):
        assert (first.folder / name).read_bytes() != (other.folder / name).read_bytes()


def test_csv_headers_are_exactly_the_contract(demo_files: DemoFiles) -> None:
    with demo_files.customers.open(encoding="utf-8") as handle:
        assert tuple(next(csv.reader(handle))) == (
            "customer_id", "name", "ibans", "parent_customer_id", "segment", "country",
            "payment_terms", "email", "credit_limit", "currency") == CUSTOMER_HEADER
    with demo_files.open_items.open(encoding="utf-8") as handle:
        assert tuple(next(csv.reader(handle))) == (
            "entity", "document_number", "document_type", "customer_id", "currency", "amount",
            "open_amount", "issue_date", "due_date", "payment_reference", "discount_rate",
            "discount_due_date") == OPEN_ITEM_HEADER


def test_csv_rows_round_trip_the_records(demo_data: DemoData, demo_files: DemoFiles) -> None:
    with demo_files.open_items.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(demo_data.open_items)
    for row, item in zip(rows, demo_data.open_items, strict=True):
        assert row["document_number"] == item.document_number
        assert row["amount"] == f"{item.amount:.2f}"
        assert row["open_amount"] == f"{item.open_amount:.2f}"
        assert dt.date.fromisoformat(row["due_date"]) == item.due_date
    with demo_files.customers.open(encoding="utf-8") as handle:
        customers = list(csv.DictReader(handle))
    assert [c["customer_id"] for c in customers] == [c.customer_id for c in demo_data.customers]
    codes = {c["payment_terms"] for c in customers}
    assert {"NET30", "2/10NET30"} <= codes


def test_ledger_is_realistic(demo_data: DemoData) -> None:
    config = demo_data.config
    customers = {c.customer_id: c for c in demo_data.customers}
    assert len(customers) == config.customers
    assert len({c.name for c in demo_data.customers}) == config.customers
    assert {c.segment for c in customers.values()} == {"key_account", "standard", "small"}
    assert len({c.country for c in customers.values()}) == 9
    parents = [c for c in customers.values() if c.parent_customer_id]
    assert parents and all(p.parent_customer_id in customers for p in parents)
    items = demo_data.open_items
    assert len(items) == config.open_items
    assert len({i.document_number for i in items}) == len(items)
    credit_notes = [i for i in items if i.document_type is DocumentType.CREDIT_NOTE]
    assert credit_notes and all(i.amount < 0 and i.document_number.startswith("CN-")
                                for i in credit_notes)
    invoices = [i for i in items if i.document_type is DocumentType.INVOICE]
    assert all(0 < i.open_amount <= i.amount for i in invoices)
    assert all(i.amount.as_tuple().exponent == -2 for i in items)
    overdue = [i for i in invoices if i.due_date < config.start - dt.timedelta(days=30)]
    assert len(overdue) > len(invoices) * 0.1  # the dunning run has work to do
    for item in invoices:
        terms = customers[item.customer_id].payment_terms or PaymentTerms(30)
        if terms.discount_rate:
            assert item.discount_rate == terms.discount_rate
            assert item.discount_due_date == item.issue_date + dt.timedelta(
                days=terms.discount_days)
        else:
            assert item.discount_rate is None and item.discount_due_date is None


def test_every_scenario_occurs_in_a_large_enough_mix(big_mix: DemoData) -> None:
    seen = Counter(row.scenario for row in big_mix.truth)
    assert set(seen) == {s.value for s in Scenario}
    total = sum(seen.values())
    clean = seen[Scenario.RF_EXACT] + seen[Scenario.DOCUMENT_IN_TEXT]
    assert 0.3 < clean / total < 0.6  # a clean majority of receipts, and a hard tail
    noise = Counter(n for row in big_mix.truth for n in row.noise)
    assert noise["name_variant"] > 100 and noise["new_iban"] > 30


def test_zero_noise_leaves_only_clean_scenarios() -> None:
    data = generate(DemoConfig(customers=50, open_items=500, payments=200, noise=0.0))
    assert {row.scenario for row in data.truth} <= {s.value for s in UNSCALED}
    # The only noise left: customers whose master data has no IBAN at all.
    no_iban = {c.customer_id for c in data.customers if not c.ibans}
    assert all(row.customer_id in no_iban for row in data.truth if row.noise)
    assert {n for row in data.truth for n in row.noise} <= {"new_iban"}
    assert {row.scenario for row in data.truth} >= {s.value for s in DEBITS}


def test_mix_override_by_scenario_name() -> None:
    only = tuple((s.value, 1.0 if s is Scenario.OVERPAYMENT else 0.0) for s in Scenario)
    data = generate(DemoConfig(customers=30, open_items=400, payments=50, mix=only))
    assert {row.scenario for row in data.truth} == {"overpayment"}
    assert all(row.unapplied > 0 for row in data.truth)


def test_payer_name_variants_differ_but_stay_recognisable() -> None:
    import random

    rng = random.Random(5)
    kinds = Counter()
    for name, country in (("Müller Maschinenbau GmbH & Co. KG", "DE"),
                          ("Transports Lefèvre Rhône-Alpes SAS", "FR"),
                          ("van den Berg Installatietechniek B.V.", "NL")):
        for _ in range(40):
            variant, kind = name_variant(name, country, rng)
            kinds[kind] += 1
            assert variant != name and len(variant) >= 10
    assert set(kinds) >= {"abbreviated", "truncated", "legal_form", "word_order",
                          "transliterated", "upper_case"}


def test_files_do_not_depend_on_hash_seed(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    outputs = []
    for hash_seed in ("1", "4242"):
        folder = tmp_path / hash_seed
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run([sys.executable, "-m", "reconciler.demo", "--out", str(folder),
                        "--customers", "30", "--open-items", "300", "--payments", "150"],
                       check=True, capture_output=True, env=env, timeout=120)
        outputs.append(folder_bytes(folder))
    assert outputs[0] == outputs[1]


def test_every_amount_has_two_decimals(big_mix: DemoData) -> None:
    for payment in big_mix.payments:
        assert payment.amount.as_tuple().exponent == -2, payment
    for row in big_mix.truth:
        for _, applied in row.settled:
            assert applied.as_tuple().exponent == -2, row
        for value in (row.discount, row.bank_charge, row.short, row.unapplied):
            assert value == 0 or value.as_tuple().exponent == -2, row
