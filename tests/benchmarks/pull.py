"""Pull benchmark: files per second from a watched folder and from SFTP on loopback.

    python -m tests.benchmarks.pull [--files 200]

Writes N small camt.053 files, pulls them through the folder source (list, stable check,
fetch, import, archive) into a SQLite database in a temporary folder, and reports files per
second; a second pull of the same folder shows the cost of finding nothing new.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from reconciler.db.session import Database, init_database
from reconciler.pulling import pull_all
from reconciler.settings import Settings, SourceSettings
from tests.connectors.conftest import camt053


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=200)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="pull-bench-"))
    inbox = folder / "inbox"
    inbox.mkdir()
    old = time.time() - 60
    for n in range(args.files):
        path = inbox / f"stmt-{n:05d}.xml"
        path.write_bytes(camt053(f"B{n}"))
        os.utime(path, (old, old))
    db = Database(f"sqlite:///{folder / 'bench.db'}")
    init_database(db)
    settings = Settings(data_dir=str(folder / "var"), sources={
        "bench": SourceSettings(kind="folder", path=str(inbox), pattern="*.xml")})
    started = time.perf_counter()
    [report] = pull_all(db, settings)
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    [again] = pull_all(db, settings)
    empty = time.perf_counter() - started
    print(f"pull (folder, import, archive): {report.imported} files in {seconds:.2f} s = "
          f"{report.imported / seconds:,.1f} files/s")
    print(f"second pull, nothing new: {len(again.files)} files in {empty * 1000:.0f} ms")
    db.dispose()


if __name__ == "__main__":
    main()
