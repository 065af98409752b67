"""The bank's SFTP server: files in `remote_dir` matching `pattern`, archived after import."""

from __future__ import annotations

import contextlib
import logging
import posixpath
import stat
from collections.abc import Callable
from typing import TypeVar

import paramiko

from connectors.errors import ConnectorError, TransientConnectorError
from connectors.sources.base import RemoteFile, matches, safe_name, with_retries
from connectors.sshlink import SftpLink
from reconciler.settings import SourceSettings

log = logging.getLogger(__name__)
T = TypeVar("T")


class SftpSource:
    def __init__(self, name: str, settings: SourceSettings, *, retry_delay: float = 1.0) -> None:
        self.name = name
        self.settings = settings
        self.stable_seconds = settings.stable_seconds
        self.retry_delay = retry_delay
        self.link = SftpLink(f"sources.{name}", host=settings.host, port=settings.port,
                             username=settings.username, key_file=settings.key_file,
                             password=settings.password, known_hosts=settings.known_hosts,
                             timeout=settings.timeout_seconds, passphrase=settings.passphrase)

    def _run(self, what: str, action: Callable[[paramiko.SFTPClient], T]) -> T:
        def attempt() -> T:
            sftp = self.link.sftp()
            try:
                return action(sftp)
            except (OSError, EOFError, paramiko.SSHException) as exc:
                if isinstance(exc, FileNotFoundError | PermissionError):
                    raise ConnectorError(f"sources.{self.name}: {what}: {exc}") from None
                self.link.reset()
                raise TransientConnectorError(f"{what}: {exc}") from None

        return with_retries(attempt, retries=self.settings.retries,
                            what=f"sources.{self.name}: {what}", base_delay=self.retry_delay)

    def _path(self, name: str) -> str:
        return posixpath.join(self.settings.remote_dir, safe_name(name))

    def list_files(self) -> list[RemoteFile]:
        attrs = self._run("list " + self.settings.remote_dir,
                          lambda sftp: sftp.listdir_attr(self.settings.remote_dir))
        marker = self.settings.done_marker
        names = {a.filename for a in attrs}
        found: list[RemoteFile] = []
        for attr in sorted(attrs, key=lambda a: a.filename):
            entry = attr.filename
            if marker and entry.endswith(marker):
                continue
            if attr.st_mode is None or not stat.S_ISREG(attr.st_mode):
                continue
            if entry.startswith(".") or not matches(entry, self.settings.pattern):
                continue
            try:
                safe_name(entry)
            except ConnectorError as exc:
                log.warning("sources.%s: skipped: %s", self.name, exc)
                continue
            found.append(RemoteFile(name=entry, size=attr.st_size or 0,
                                    mtime=int(attr.st_mtime or 0),
                                    complete=bool(marker and entry + marker in names)))
        return found

    def fetch(self, file: RemoteFile) -> bytes:
        def read(sftp: paramiko.SFTPClient) -> bytes:
            with sftp.open(self._path(file.name), "rb") as handle:
                handle.prefetch()
                return handle.read()

        return self._run("fetch " + file.name, read)

    def acknowledge(self, file: RemoteFile) -> None:
        archive = self.settings.archive_dir
        if not archive:
            return  # no archive folder: the source_files table remembers the file as taken
        marker = self.settings.done_marker

        def move(sftp: paramiko.SFTPClient) -> None:
            try:
                sftp.stat(archive)
            except FileNotFoundError:
                sftp.mkdir(archive)
            target = posixpath.join(archive, safe_name(file.name))
            try:
                sftp.stat(target)
                target = f"{target}.{file.mtime}"  # same name again on another day: keep both
            except FileNotFoundError:
                pass
            sftp.posix_rename(self._path(file.name), target)
            if marker:
                with contextlib.suppress(FileNotFoundError):
                    sftp.remove(self._path(file.name + marker))

        self._run("archive " + file.name, move)

    def close(self) -> None:
        self.link.close()
