"""The cyclic garbage collector and the large, long-lived structures of a run.

A matcher run holds millions of objects for its whole length (the snapshot, the candidate
view, the decided lines). Python's collector walks every tracked object at each full
collection, and the run's hundred thousand lines and decisions trigger many of them: the
walks cost a fifth of the write phase. Objects that will live until the run ends are moved
out of the collector's sight while the run goes on (`gc.freeze`); they are handed back to it
when the outermost block ends.

Structures still being built (an import's rows, a parsed bank file, a run's snapshot and
view) are built with the collector paused (`collector_paused`): they hold no reference cycles,
yet every few thousand allocations the collector would walk all of them again.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0  # blocks open; the heap is frozen while any is


@contextmanager
def long_lived() -> Iterator[None]:
    """Everything allocated so far lives through the block: the collector skips it.

    Blocks nest (a run freezes its snapshot, then its forked chain what it built since);
    only the outermost one's end hands the objects back to the collector.
    """
    global _depth
    with _lock:
        gc.freeze()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                gc.unfreeze()


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection during the block: for building many objects that form no
    reference cycles (plain reference counting frees them). Without the pause a million-row
    import turns quadratic, unpickling a parsed bank file takes three times as long, and the
    collector takes a third of a run's snapshot reading and a fifth of its indexing."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
