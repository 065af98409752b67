"""Files that appear whole or not at all: written beside the target, then renamed into place.

A script or ERP reading an export must never see half of one, even when the writer is killed
mid-write: `os.replace` is atomic on the same file system.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from reconciler.errors import InputError


@contextmanager
def replaced_atomically(target: Path, mode: str = "w", **open_args: Any) -> Iterator[IO[Any]]:
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"{target}: folder {folder} does not exist")
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=folder)
    try:
        with os.fdopen(handle, mode, **open_args) as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
