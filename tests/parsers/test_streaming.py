"""The CAMT reader streams: memory does not grow with the number of entries.

Measured for real, in child processes (peak resident memory is per process): a file ten
times longer must not need noticeably more memory. A reader that kept the tree would need
well over 100 MB more for the longer file.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from parsers.camt import StatementEnd, StatementStart, parse_camt_stream
from parsers.camt.reader import CamtReader
from reconciler.domain.bank import Transaction
from tests.benchmarks.camt import write_camt

ROOT = Path(__file__).resolve().parents[2]


def _peak_mb(path: Path) -> float:
    completed = subprocess.run(
        [sys.executable, "-m", "tests.benchmarks.camt", "--child", "reader", str(path)],
        capture_output=True, text=True, check=True, cwd=ROOT)
    return float(json.loads(completed.stdout)["peak_mb"])


@pytest.mark.slow
def test_memory_does_not_grow_with_the_file(tmp_path: Path) -> None:
    small, large = tmp_path / "small.xml", tmp_path / "large.xml"
    write_camt(small, "053", 2_000)
    size = write_camt(large, "053", 20_000)
    assert size > 15_000_000
    growth = _peak_mb(large) - _peak_mb(small)
    assert growth < 15, f"peak memory grew by {growth:.0f} MB for 18,000 more entries"


def test_events_arrive_in_order_and_entries_are_dropped(tmp_path: Path) -> None:
    path = tmp_path / "bench.xml"
    write_camt(path, "054", 300)
    seen: list[str] = []
    with path.open("rb") as source:
        reader = CamtReader(source, filename="bench.xml", keep_raw=False)
        for event in reader:
            if isinstance(event, StatementStart):
                seen.append("start")
            elif isinstance(event, StatementEnd):
                seen.append("end")
            elif isinstance(event, Transaction):
                if not seen or seen[-1] != "tx":
                    seen.append("tx")
                assert event.raw is None
    assert seen == ["start", "tx", "end"]
    assert reader.format == "camt.054.001.08"


def test_stream_and_bytes_give_the_same_result(tmp_path: Path) -> None:
    path = tmp_path / "bench.xml"
    write_camt(path, "053", 50)
    data = path.read_bytes()
    from_stream = parse_camt_stream(io.BytesIO(data), filename="x")
    assert len(from_stream.statements[0].transactions) == 50
    assert from_stream.statements[0].transactions[0].counterparty_name == "Customer 1 GmbH"
