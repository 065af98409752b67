"""The benchmarks' memory figure counts forked workers, not only the parent."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from tests.benchmarks.memory import TreeMemory, tree_rss_mb

HOLD_100_MB = "b = bytearray(100 * 1024 * 1024); import time; time.sleep(30)"


def test_tree_memory_includes_children() -> None:
    alone = tree_rss_mb(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", HOLD_100_MB])
    try:
        with TreeMemory(every_seconds=0.05) as memory:
            deadline = time.monotonic() + 20
            while tree_rss_mb(os.getpid()) < alone + 90 and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.2)
    finally:
        child.kill()
        child.wait()
    assert memory.peak_mb >= alone + 90
    assert memory.peak_pss_mb >= 90  # the child's pages are its own: fully in its PSS
    assert tree_rss_mb(child.pid) == 0  # a process that ended holds nothing
