"""The ground truth is internally consistent and agrees with the ledger it was drawn from."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path

from reconciler.demo import DemoData, DemoFiles, Scenario, TruthRow, read_truth
from reconciler.demo.truth import EXPECTED
from reconciler.domain import Customer, OpenItem

ZERO = Decimal(0)


def _rows(data: DemoData, scenario: Scenario) -> list[TruthRow]:
    return [row for row in data.truth if row.scenario == scenario.value]


def test_cash_identity_holds_for_every_row(big_mix: DemoData) -> None:
    for row in big_mix.truth:
        assert row.balances(), row
        assert row.expected in EXPECTED
        if row.is_receivable:
            assert row.applied + row.bank_charge + row.unapplied == row.amount
            assert row.customer_id
        else:
            assert not row.settled and row.customer_id is None


def test_truth_matches_the_payments(big_mix: DemoData) -> None:
    payments = {p.bank_reference: p for p in big_mix.payments}
    for row in big_mix.truth:
        payment = payments[row.bank_reference]
        assert payment.amount == row.amount and payment.booking_date == row.booking_date
        assert payment.customer_id == row.customer_id
    debits = [row for row in big_mix.truth if row.amount < 0]
    assert debits and all(row.expected == "not_receivable" for row in debits)


def test_settled_items_exist_belong_to_the_customer_and_are_used_once(
        big_mix: DemoData) -> None:
    items: dict[str, OpenItem] = {i.document_number: i for i in big_mix.open_items}
    customers: dict[str, Customer] = {c.customer_id: c for c in big_mix.customers}
    used: Counter[str] = Counter()
    for row in big_mix.truth:
        for number, applied in row.settled:
            item = items[number]
            assert item.customer_id == row.customer_id
            assert abs(applied) <= abs(item.open_amount)
            assert item.issue_date < row.booking_date
            used[number] += 1
        if row.scenario == Scenario.PARENT_PAYS:
            parent = customers[customers[row.customer_id or ""].parent_customer_id or ""]
            assert row.payer_iban in parent.ibans or "new_iban" in row.noise
    assert used and max(used.values()) == 1


def test_discounts_charges_and_short_payments(big_mix: DemoData) -> None:
    items = {i.document_number: i for i in big_mix.open_items}
    for row in _rows(big_mix, Scenario.CASH_DISCOUNT):
        ((number, applied),) = row.settled
        item = items[number]
        assert item.discount_due_date and row.booking_date <= item.discount_due_date
        assert row.discount == item.discount_on(row.booking_date).quantize(Decimal("0.01"))
        assert applied + row.discount == item.open_amount
    for row in _rows(big_mix, Scenario.LATE_DISCOUNT):
        ((number, applied),) = row.settled
        item = items[number]
        assert item.discount_due_date and row.booking_date > item.discount_due_date
        assert row.discount == ZERO and applied + row.short == item.open_amount
    for row in _rows(big_mix, Scenario.BANK_CHARGES):
        assert Decimal("-15.00") <= row.bank_charge <= Decimal("-0.50")
        assert row.applied == items[row.settled[0][0]].open_amount
    for row in _rows(big_mix, Scenario.PARTIAL_PAYMENT):
        ((number, applied),) = row.settled
        assert ZERO < applied < items[number].open_amount
    for row in _rows(big_mix, Scenario.OVERPAYMENT):
        assert row.unapplied > ZERO and row.applied == items[row.settled[0][0]].open_amount


def test_netting_several_items_and_duplicates(big_mix: DemoData) -> None:
    items = {i.document_number: i for i in big_mix.open_items}
    for row in _rows(big_mix, Scenario.CREDIT_NOTE_NETTED):
        kinds = Counter(items[n].document_type.value for n, _ in row.settled)
        assert kinds["credit_note"] == 1 and kinds["invoice"] >= 1 and row.amount > 0
    for row in _rows(big_mix, Scenario.SEVERAL_INVOICES):
        assert len(row.settled) >= 2
    originals = {(r.customer_id, r.amount) for r in big_mix.truth if r.settled}
    duplicates = _rows(big_mix, Scenario.DUPLICATE_PAYMENT)
    assert duplicates
    for row in duplicates:
        assert not row.settled and row.unapplied == row.amount
        assert (row.customer_id, row.amount) in originals


def test_amount_collisions_tempt_with_another_customers_item(big_mix: DemoData) -> None:
    owners: dict[Decimal, set[str]] = {}
    for item in big_mix.open_items:
        owners.setdefault(item.open_amount, set()).add(item.customer_id)
    rows = _rows(big_mix, Scenario.AMOUNT_COLLISION)
    tempting = [r for r in rows if len(owners[r.amount]) > 1]
    assert rows and len(tempting) >= len(rows) // 2


def test_truth_csv_round_trips(demo_files: DemoFiles, demo_data: DemoData,
                               tmp_path: Path) -> None:
    assert read_truth(demo_files.truth) == demo_data.truth


def test_no_hidden_reference_where_the_payer_gave_none(big_mix: DemoData) -> None:
    payments = {p.bank_reference: p for p in big_mix.payments}
    blind = {Scenario.NO_REFERENCE, Scenario.MISTYPED_REFERENCE, Scenario.AMOUNT_COLLISION}
    for row in big_mix.truth:
        if row.scenario not in blind:
            continue
        payment = payments[row.bank_reference]
        carried = f"{payment.end_to_end_id} {payment.remittance_text} {payment.creditor_reference}"
        for number, _ in row.settled:
            assert number not in carried and number.replace("-", "") not in carried
