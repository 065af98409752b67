"""What an EBICS source needs from a client implementation, and how orders are named.

EBICS 3.0 downloads are BTD orders named by BTF parameters (service name, scope, message
name and version) instead of the old three-letter order types (C53, C54, STA).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from connectors.errors import ConnectorError


@dataclass(frozen=True, slots=True)
class OrderParams:
    service_name: str  # EOP end-of-period statement, REP report/advice, STM intraday
    msg_name: str  # camt.053, camt.054, mt940
    scope: str | None = None  # e.g. DE, CH; None: the bank's default
    msg_version: str | None = None  # e.g. 08 for camt.053.001.08
    container: str | None = None  # ZIP for ISO 20022 messages

    @property
    def label(self) -> str:
        return "-".join(p for p in (self.service_name, self.scope, self.msg_name) if p)


# The German DK mapping of the old order types onto BTF parameters.
SHORTCUTS = {
    "camt.053": OrderParams("EOP", "camt.053", msg_version="08", container="ZIP"),  # was C53
    "camt.054": OrderParams("REP", "camt.054", msg_version="08", container="ZIP"),  # was C54
    "camt.052": OrderParams("STM", "camt.052", msg_version="08", container="ZIP"),  # was C52
    "mt940": OrderParams("EOP", "mt940"),  # was STA
}


def order_params(text: str) -> OrderParams:
    """A shortcut (`camt.053`) or `SERVICE:SCOPE:MSGNAME[:VERSION[:CONTAINER]]`."""
    if text in SHORTCUTS:
        return SHORTCUTS[text]
    parts = text.split(":")
    if len(parts) < 3 or not parts[0] or not parts[2]:
        known = ", ".join(SHORTCUTS)
        raise ConnectorError(f"EBICS order {text!r}: use one of {known} or "
                             "SERVICE:SCOPE:MSGNAME[:VERSION[:CONTAINER]]")
    version = parts[3] if len(parts) > 3 and parts[3] else None
    container = parts[4] if len(parts) > 4 and parts[4] else None
    return OrderParams(parts[0], parts[2], parts[1] or None, version, container)


@dataclass(frozen=True, slots=True)
class Download:
    transaction_id: str
    order: OrderParams
    data: bytes  # the order data, decrypted and decompressed


class EbicsBackend(Protocol):
    def ini(self) -> str: ...

    def hia(self) -> str: ...

    def hpb(self) -> str: ...

    def letter(self) -> str: ...

    def download(self, order: OrderParams) -> Download | None:
        """The bank's new data for the order, or None when there is none."""
        ...

    def receipt(self, transaction_id: str, ok: bool = True) -> None:
        """Confirm (or refuse) a download; a confirmed one is not offered again."""
        ...
