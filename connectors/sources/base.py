"""The bank source interface and what every source shares: safe names, patterns, retries.

A source lists the files the bank offers, fetches their bytes and acknowledges a file only
after the caller has committed its import (moving it to an archive folder, or sending the
EBICS receipt). What was already taken is the caller's business (`reconciler.pulling` keeps
it in the `source_files` table), so a source holds no state of its own.
"""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from connectors.errors import ConnectorError, TransientConnectorError, UnsafeNameError
from reconciler.settings import SourceSettings

T = TypeVar("T")
KINDS = ("sftp", "ebics", "folder")  # every kind `open_source` builds; tested by enumeration


@dataclass(frozen=True, slots=True)
class RemoteFile:
    """A file as the bank offers it. `complete` is True when the bank's done-marker says so."""

    name: str
    size: int
    mtime: int  # seconds since the epoch, by the bank's clock
    complete: bool = False
    handle: str = ""  # source-specific: an EBICS transaction id, a remote path


class BankSource(Protocol):
    name: str
    stable_seconds: int

    def list_files(self) -> list[RemoteFile]:
        """Files matching the source's pattern, in the order they should be imported."""
        ...

    def fetch(self, file: RemoteFile) -> bytes: ...

    def acknowledge(self, file: RemoteFile) -> None:
        """Called only after the import committed: archive, or confirm receipt to the bank."""
        ...

    def close(self) -> None: ...


def safe_name(name: str) -> str:
    """Return `name` if it is a plain file name; a remote name is never trusted as a path."""
    if not name or name in (".", "..") or len(name) > 255:
        raise UnsafeNameError(f"unsafe remote file name {name!r}: empty, '.', '..' or too long")
    if "/" in name or "\\" in name or ".." in name:
        raise UnsafeNameError(f"unsafe remote file name {name!r}: contains a path separator "
                              "or '..'")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise UnsafeNameError(f"unsafe remote file name {name!r}: contains control characters")
    return name


def matches(name: str, pattern: str) -> bool:
    """Shell-style patterns, several separated by ';' or ',' ("*.xml;*.sta")."""
    patterns = [p.strip() for p in pattern.replace(",", ";").split(";") if p.strip()]
    return any(fnmatch.fnmatchcase(name, p) for p in patterns or ["*"])


def with_retries(action: Callable[[], T], *, retries: int, what: str,
                 base_delay: float = 1.0, max_delay: float = 30.0) -> T:
    """Run `action`; on a transient error wait 1 s, 2 s, 4 s, ... and try again."""
    attempt = 0
    while True:
        try:
            return action()
        except TransientConnectorError as exc:
            attempt += 1
            if attempt > retries:
                raise ConnectorError(f"{what}: gave up after {attempt} attempts: {exc}") from exc
            time.sleep(min(base_delay * 2 ** (attempt - 1), max_delay))


def open_source(name: str, settings: SourceSettings) -> BankSource:
    """Build the source described by `[sources.NAME]`."""
    if settings.kind == "folder":
        from connectors.sources.folder import FolderSource

        return FolderSource(name, settings)
    if settings.kind == "sftp":
        from connectors.sources.sftp import SftpSource

        return SftpSource(name, settings)
    if settings.kind == "ebics":
        from connectors.sources.ebics.source import EbicsSource

        return EbicsSource(name, settings)
    raise ConnectorError(f"sources.{name}: unknown kind {settings.kind!r} "
                         f"(known: {', '.join(KINDS)})")
