"""A call in a forked child: its result comes back; a dead or stopped child gives none."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from reconciler import forked
from reconciler.domain import EntryStatus, Statement, Transaction
from reconciler.forked import ForkedCall, ForkedFeed, ForkedFeedError, by_field_values


def _total(values: list[Decimal]) -> Decimal:
    return sum(values, Decimal(0))


def test_the_result_comes_back_and_the_child_is_gone() -> None:
    call = ForkedCall(_total, [Decimal("0.10"), Decimal("0.20")], name="sum")
    assert call.result() == Decimal("0.30")
    assert not multiprocessing.active_children()
    with pytest.raises(RuntimeError):
        call.result()


def test_a_child_that_dies_gives_none(monkeypatch: pytest.MonkeyPatch) -> None:
    def die(*_args: object) -> None:
        os._exit(3)

    monkeypatch.setattr(forked, "_run", die)
    assert ForkedCall(_total, [Decimal(1)], name="dies").result() is None
    assert not multiprocessing.active_children()


def test_stop_ends_a_child_whose_result_is_not_wanted() -> None:
    call = ForkedCall(time.sleep, 60, name="sleeps")
    started = time.monotonic()
    call.stop()
    assert time.monotonic() - started < 10
    assert not multiprocessing.active_children()


def _count_to(send: Callable[[object], None], last: int) -> None:
    for number in range(1, last + 1):
        send(("number", Decimal(number)))
    if last < 0:
        raise ValueError("cannot count to a negative number")


def test_a_feed_brings_each_message_in_order() -> None:
    feed = ForkedFeed(_count_to, 3, name="count")
    try:
        assert list(feed.messages()) == [("number", Decimal(n)) for n in (1, 2, 3)]
    finally:
        feed.close()
    assert not multiprocessing.active_children()


def test_a_feed_whose_child_raises_ends_with_its_error() -> None:
    feed = ForkedFeed(_count_to, -1, name="count")
    try:
        with pytest.raises(ForkedFeedError, match="negative number"):
            list(feed.messages())
    finally:
        feed.close()
    assert not multiprocessing.active_children()


def _parsed_statement() -> Statement:
    payment = Transaction(Decimal("119.00"), "EUR", dt.date(2026, 3, 2), dt.date(2026, 3, 2),
                          bank_reference="REF-1", status=EntryStatus.PENDING,
                          extra=(("creditor_id", "DE98ZZZ09999999999"),))
    return Statement("DE02120300000000202051", "EUR", "S-1", "1", Decimal("0.00"),
                     Decimal("119.00"), dt.date(2026, 3, 1), dt.date(2026, 3, 2),
                     transactions=(payment, payment))


def test_records_sent_by_their_field_values_arrive_equal() -> None:
    statement = _parsed_statement()
    reducers = by_field_values(Statement, Transaction)
    result = ForkedCall(_parsed_statement, name="parse", reducers=reducers).result()
    assert result == statement
    assert result is not None and result.transactions[0] is result.transactions[1]


def test_by_field_values_refuses_a_record_it_could_not_rebuild() -> None:
    @dataclass(frozen=True, slots=True)
    class Derived:
        amount: Decimal
        currency: str
        label: str = field(init=False, default="")

    with pytest.raises(TypeError):
        by_field_values(Derived)
