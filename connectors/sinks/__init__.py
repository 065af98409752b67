"""ERP sinks: where posted cash entries are delivered (file drop, webhook, SFTP push).

A sink delivers one posting and returns the acknowledgement to record; it raises
`TransientConnectorError` (retry later) or `ConnectorError`. The outbox decides what is due.
"""

from __future__ import annotations

from connectors.sinks.base import Sink, encode, open_sink

__all__ = ["Sink", "encode", "open_sink"]
