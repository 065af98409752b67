"""The cyclic garbage collector and the large, long-lived structures of a run.

A matcher run holds millions of objects for its whole length (the candidate view, the decided
lines). Python's collector walks every tracked object at each full collection, and the
hundred thousand decisions written afterwards trigger many of them: the walks cost a fifth of
the write phase. Objects that will live until the run ends are moved out of the collector's
sight while the run goes on (`gc.freeze`); they are handed back to it at the end.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def long_lived() -> Iterator[None]:
    """Everything allocated so far lives through the block: the collector skips it."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
