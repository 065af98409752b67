"""Peak memory of a process and all its children, sampled while a benchmark runs.

`ru_maxrss` sees one process: a matcher run that forks workers would report only the parent.
This samples the resident set of the whole process tree (Linux /proc) a few times a second
and keeps the largest sum. Pages the children share copy-on-write with the parent count once
per process, so the figure is an upper bound of what the machine had to provide.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from types import TracebackType


class TreeMemory:
    """`with TreeMemory() as memory: ...`, then `memory.peak_mb`."""

    def __init__(self, every_seconds: float = 0.2) -> None:
        self.every_seconds = every_seconds
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, tree_rss_mb(os.getpid()))

    def _sample(self) -> None:
        while not self._stop.wait(self.every_seconds):
            self.peak_mb = max(self.peak_mb, tree_rss_mb(os.getpid()))


def tree_rss_mb(pid: int) -> float:
    """Resident memory of `pid` and its descendants, in MiB (0 for a process that ended)."""
    total_kb = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        total_kb += _rss_kb(current)
        pending.extend(_children(current))
    return total_kb / 1024


def _rss_kb(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            found.extend(int(child) for child in (task / "children").read_text().split())
        except OSError:
            continue
    return found
