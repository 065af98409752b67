"""Peak memory of a process and all its children, sampled while a benchmark runs.

`ru_maxrss` sees one process: a matcher run that forks workers would report only the parent.
This samples the whole process tree (Linux /proc) a few times a second and keeps the largest
sums of two figures:
- RSS: each process's resident set; pages the forked workers still share copy-on-write with
  the parent count once per process, so the sum overstates what the machine provides;
- PSS: each shared page split among the processes sharing it, so the sum is the physical
  memory the tree uses (`/proc/PID/smaps_rollup`).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from types import TracebackType


class TreeMemory:
    """`with TreeMemory() as memory: ...`, then `memory.peak_mb` (RSS) and
    `memory.peak_pss_mb`."""

    def __init__(self, every_seconds: float = 0.2, pss_every_ticks: int = 5) -> None:
        self.every_seconds = every_seconds
        self.pss_every_ticks = pss_every_ticks
        self.peak_mb = 0.0
        self.peak_pss_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()
        self._take()

    def _sample(self) -> None:
        tick = 0
        while not self._stop.wait(self.every_seconds):
            tick += 1
            self._take(with_pss=tick % self.pss_every_ticks == 0)

    def _take(self, *, with_pss: bool = True) -> None:
        rss = tree_rss_mb(os.getpid())
        self.peak_mb = max(self.peak_mb, rss)
        if with_pss and rss > self.peak_pss_mb:
            self.peak_pss_mb = max(self.peak_pss_mb, tree_rss_mb(os.getpid(), proportional=True))


def tree_rss_mb(pid: int, *, proportional: bool = False) -> float:
    """Resident memory of `pid` and its descendants in MiB, RSS or (`proportional`) PSS;
    0 for a process that ended."""
    total_kb = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        total_kb += _resident_kb(current, proportional)
        pending.extend(_children(current))
    return total_kb / 1024


def _resident_kb(pid: int, proportional: bool) -> int:
    source, field = (("smaps_rollup", "Pss:") if proportional else ("status", "VmRSS:"))
    try:
        text = Path(f"/proc/{pid}/{source}").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith(field):
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
