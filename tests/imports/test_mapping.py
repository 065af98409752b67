"""Stored transactions come back as the domain records the parser produced."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

from sqlalchemy import select

import parsers
from reconciler.db.bank import TransactionRow
from reconciler.db.session import Database
from reconciler.mapping import (
    is_derived_reference,
    payment_from_row,
    terms_from_code,
    transaction_from_row,
)
from reconciler.statements import import_file
from tests.imports.helpers import FIXTURES


def test_transactions_round_trip(db: Database) -> None:
    data = (FIXTURES / "camt053_day1.xml").read_bytes()
    parsed = parsers.parse(data, filename="camt053_day1.xml").statements[0].transactions
    import_file(db, data, "camt053_day1.xml")
    with db.session() as s:
        rows = list(s.scalars(select(TransactionRow).order_by(TransactionRow.position)))
        restored = [transaction_from_row(r) for r in rows]
        payment = payment_from_row(rows[0])
        derived = [is_derived_reference(r) for r in rows]
    # `extra` carries parser-internal markers; every field with a column or a details key
    # comes back unchanged.
    assert [replace(t, extra=()) for t in restored] == [replace(t, extra=()) for t in parsed]
    assert derived == [False, False, True]
    assert payment.id == rows[0].id and payment.amount == Decimal("1190.00")
    assert payment.value_date == dt.date(2026, 11, 20)
    assert payment.account == "DE89370400440532013000"
    assert payment.creditor_reference == "RF18539007547034"
    assert payment.counterparty_name == "Mueller GmbH"


def test_terms_from_code() -> None:
    terms = terms_from_code("2/10NET30")
    assert terms is not None and terms.discount_days == 10
    assert terms_from_code(None) is None and terms_from_code("garbage") is None
