"""One SSH/SFTP connection with strict host-key checking, shared by the SFTP source and sink.

Host keys are checked against the configured known_hosts file only, never the user's own,
and an unknown or changed key is refused (`RejectPolicy`): a man in the middle must not be
able to read a bank's statements or feed us forged ones.
"""

from __future__ import annotations

from pathlib import Path

import paramiko

from connectors.errors import ConnectorError, HostKeyError, TransientConnectorError
from reconciler.settings import Secret


class SftpLink:
    def __init__(self, label: str, *, host: str | None, port: int, username: str | None,
                 key_file: str | None, password: Secret | None, known_hosts: str | None,
                 timeout: int, passphrase: Secret | None = None) -> None:
        if not host or not username:
            raise ConnectorError(f"{label}: 'host' and 'username' are required")
        if not known_hosts:
            raise ConnectorError(f"{label}: 'known_hosts' is required; host keys are never "
                                 "accepted unseen")
        if not key_file and password is None:
            raise ConnectorError(f"{label}: give 'key_file' or 'password' (a secret reference)")
        self.label, self.host, self.port, self.username = label, host, port, username
        self.key_file, self.password, self.passphrase = key_file, password, passphrase
        self.known_hosts, self.timeout = known_hosts, timeout
        self._client: paramiko.SSHClient | None = None
        self._sftp: paramiko.SFTPClient | None = None

    def sftp(self) -> paramiko.SFTPClient:
        if self._sftp is None:
            self._connect()
        assert self._sftp is not None
        return self._sftp

    def _connect(self) -> None:
        where = f"{self.label}: {self.host}:{self.port}"
        if not Path(self.known_hosts).is_file():
            raise ConnectorError(f"{where}: known_hosts file {self.known_hosts} not found")
        client = paramiko.SSHClient()
        client.load_host_keys(self.known_hosts)
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        try:
            client.connect(
                self.host, port=self.port, username=self.username,
                key_filename=self.key_file,
                password=self.password.reveal() if self.password else None,
                passphrase=self.passphrase.reveal() if self.passphrase else None,
                timeout=self.timeout, banner_timeout=self.timeout, auth_timeout=self.timeout,
                channel_timeout=self.timeout, look_for_keys=False, allow_agent=False,
            )
            sftp = client.open_sftp()
            sftp.get_channel().settimeout(self.timeout)  # type: ignore[union-attr]
        except paramiko.BadHostKeyException as exc:
            client.close()
            raise HostKeyError(
                f"{where}: the server's host key CHANGED ({exc.key.get_name()} "
                f"{exc.key.get_fingerprint().hex()} is not the one in {self.known_hosts}); "
                "pull stopped. Check with the bank before updating known_hosts.") from None
        except paramiko.AuthenticationException as exc:
            client.close()
            raise ConnectorError(f"{where}: authentication failed: {exc}") from None
        except paramiko.SSHException as exc:
            client.close()
            if "known_hosts" in str(exc) or "not found in known_hosts" in str(exc):
                raise HostKeyError(f"{where}: host key not in {self.known_hosts}; add the "
                                   "bank's published key first") from None
            raise TransientConnectorError(f"{where}: {exc}") from None
        except (TimeoutError, OSError, EOFError) as exc:
            client.close()
            raise TransientConnectorError(f"{where}: cannot connect: {exc}") from None
        self._client, self._sftp = client, sftp

    def reset(self) -> None:
        """Drop a connection that failed mid-operation; the next call reconnects."""
        self.close()

    def close(self) -> None:
        if self._sftp is not None:
            self._sftp.close()
        if self._client is not None:
            self._client.close()
        self._sftp = self._client = None
