"""Prepared statements convert values exactly like SQLAlchemy does, on both databases."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import cast

import pytest
from sqlalchemy import Table, bindparam, insert, select

from reconciler.db.base import utcnow
from reconciler.db.journal import JournalRow
from reconciler.db.ledger import OpenItemRow
from reconciler.db.prepared import Prepared
from reconciler.db.session import Database
from tests.engine.builders import add_customer, add_item

_I = cast(Table, OpenItemRow.__table__)
_J = cast(Table, JournalRow.__table__)
_AMOUNTS = Prepared(select(_I.c.document_number, _I.c.open_amount, _I.c.discount_rate,
                           _I.c.due_date).where(_I.c.customer_id == bindparam("customer"))
                    .order_by(_I.c.id))
_APPEND = Prepared(insert(_J).values({c.name: bindparam(f"p_{c.name}") for c in _J.columns}))


def test_values_read_back_like_the_orm(db: Database) -> None:
    with db.transaction() as s:
        add_customer(s, "C1", "Acme GmbH", ())
        add_item(s, "INV-1", "C1", "1190.00")
        add_item(s, "INV-2", "C1", "-12.3456")
        add_item(s, "INV-3", "C1", "99999999999.99")
    with db.session() as s:
        fast = _AMOUNTS.execute(s, {"customer": "C1"})
        streamed = list(_AMOUNTS.stream(s, {"customer": "C1"}, chunk=2))
        orm = [(r.document_number, r.open_amount, r.discount_rate, r.due_date)
               for r in s.scalars(select(OpenItemRow).order_by(OpenItemRow.id))]
    assert fast == streamed == orm
    assert [str(row[1]) for row in fast] == ["1190.00", "-12.3456", "99999999999.99"]
    assert all(isinstance(row[3], dt.date) for row in fast)


def test_rows_written_are_read_by_the_orm(db: Database) -> None:
    at = utcnow()
    rows = [{"p_seq": n, "p_at": at, "p_actor": "test", "p_action": "check", "p_subject": "s",
             "p_reason": "", "p_data": {"amount": "1.10", "n": n}, "p_prev_hash": "0" * 64,
             "p_hash": f"{n:064d}"} for n in (901, 902)]
    with db.transaction() as s:
        _APPEND.execute_many(s, rows)
    with db.session() as s:
        stored = s.scalars(select(JournalRow).where(JournalRow.seq > 900)
                           .order_by(JournalRow.seq)).all()
    assert [(r.seq, r.at, r.data) for r in stored] == [
        (901, at, {"amount": "1.10", "n": 901}), (902, at, {"amount": "1.10", "n": 902})]


def test_rolled_back_with_the_session(db: Database) -> None:
    row = {"p_seq": 903, "p_at": utcnow(), "p_actor": "a", "p_action": "b", "p_subject": "c",
           "p_reason": "", "p_data": {}, "p_prev_hash": "0" * 64, "p_hash": "f" * 64}
    with pytest.raises(RuntimeError), db.transaction() as s:
        _APPEND.execute(s, row)
        raise RuntimeError("the decision fails after its first statement")
    with db.session() as s:
        assert s.get(JournalRow, 903) is None


def test_in_lists_are_refused_with_the_way_out(db: Database) -> None:
    statement = Prepared(select(_I.c.id).where(_I.c.status.in_(("open", "closed"))))
    with db.session() as s, pytest.raises(TypeError, match="OR of comparisons"):
        statement.execute(s)


def test_money_refuses_floats(db: Database) -> None:
    with db.transaction() as s:
        add_customer(s, "C1", "Acme GmbH", ())
    update = Prepared(select(_I.c.id).where(_I.c.open_amount == bindparam("amount")))
    with db.session() as s, pytest.raises(TypeError, match="float"):
        update.execute(s, {"amount": 1.1})
    with db.session() as s:
        assert update.execute(s, {"amount": Decimal("1.10")}) == []
