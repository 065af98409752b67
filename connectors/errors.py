"""Errors of the connectors, under the server's one hierarchy (`ReconError`)."""

from __future__ import annotations

from reconciler.errors import ReconError


class ConnectorError(ReconError):
    """A bank source or an ERP sink cannot be reached or refused the operation."""


class TransientConnectorError(ConnectorError):
    """Worth another try later: a timeout, a dropped connection, an HTTP 5xx."""


class HostKeyError(ConnectorError):
    """The server's host key is unknown or changed: never connect, a person must check."""


class UnsafeNameError(ConnectorError):
    """A remote file name that could escape the folder it is written to."""
