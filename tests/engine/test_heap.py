"""Long-lived blocks keep the run's objects out of the collector until the outermost ends."""

from __future__ import annotations

import gc

from reconciler.heap import long_lived


def test_nested_blocks_unfreeze_only_at_the_outermost_end() -> None:
    assert gc.get_freeze_count() == 0
    outer = [object() for _ in range(10)]
    with long_lived():
        frozen = gc.get_freeze_count()
        assert frozen > 0
        inner: list[list[int]] = [[] for _ in range(1000)]
        with long_lived():
            assert gc.get_freeze_count() >= frozen + len(inner)
        assert gc.get_freeze_count() >= frozen + len(inner)  # the outer block still holds
    assert gc.get_freeze_count() == 0
    assert outer and inner
