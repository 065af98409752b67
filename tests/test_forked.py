"""A call in a forked child: its result comes back; a dead or stopped child gives none."""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable
from decimal import Decimal

import pytest

from reconciler import forked
from reconciler.forked import ForkedCall, ForkedFeed, ForkedFeedError


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
