"""SFTP push: one file per posting into the ERP's remote folder, renamed into place."""

from __future__ import annotations

import io
import posixpath
from typing import Any

import paramiko

from connectors.errors import TransientConnectorError
from connectors.sinks.base import encode, file_name
from connectors.sshlink import SftpLink
from reconciler.settings import SinkSettings


class SftpSink:
    def __init__(self, name: str, settings: SinkSettings) -> None:
        self.name = name
        self.format = settings.format
        self.remote_dir = settings.remote_dir
        self.link = SftpLink(f"sinks.{name}", host=settings.host, port=settings.port,
                             username=settings.username, key_file=settings.key_file,
                             password=settings.password, known_hosts=settings.known_hosts,
                             timeout=settings.timeout_seconds)

    def deliver(self, payload: dict[str, Any]) -> str:
        name = file_name(payload, self.format)
        target = posixpath.join(self.remote_dir, name)
        temporary = posixpath.join(self.remote_dir, f".{name}.part")
        body = encode([payload], self.format, single=True)
        sftp = self.link.sftp()
        try:
            sftp.putfo(io.BytesIO(body), temporary, file_size=len(body), confirm=True)
            sftp.posix_rename(temporary, target)  # replaces a copy from a lost earlier attempt
        except (OSError, EOFError, paramiko.SSHException) as exc:
            self.link.reset()
            raise TransientConnectorError(f"sinks.{self.name}: upload of {name}: {exc}") from None
        return f"sftp {self.link.host}:{target}"

    def close(self) -> None:
        self.link.close()
