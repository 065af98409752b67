"""Optional backend on the `ebicsclient` package (PyPI).

`ebicsclient` is source-available and free for personal use only; commercial use needs a
licence from its author. It is therefore never a dependency of this project: install it
yourself if your use is covered, and set `backend = "ebicsclient"` on the source.
Not exercised by the test suite (the package is not installed there).
"""

from __future__ import annotations

import importlib
from typing import Any

from connectors.errors import ConnectorError
from connectors.sources.ebics.backend import Download, OrderParams
from reconciler.settings import SourceSettings


class EbicsclientBackend:
    def __init__(self, name: str, settings: SourceSettings, passphrase: str | None) -> None:
        try:
            library: Any = importlib.import_module("ebicsclient")
        except ModuleNotFoundError:
            raise ConnectorError(f"sources.{name}: backend 'ebicsclient' is not installed "
                                 "(pip install ebicsclient; mind its licence)") from None
        self.name = name
        keyring_path = f"{settings.keys_dir}/keyring.json"
        keyring = library.load_keyring(keyring_path, passphrase=passphrase)
        self.client = library.Client(
            library.Bank(host_id=settings.host_id, url=settings.url),
            library.User(partner_id=settings.partner_id, user_id=settings.user_id), keyring)

    def ini(self) -> str:
        self.client.ini()
        return "INI sent through ebicsclient"

    def hia(self) -> str:
        self.client.hia()
        return "HIA sent through ebicsclient"

    def hpb(self) -> str:
        self.client.hpb()
        return "bank keys fetched through ebicsclient"

    def letter(self) -> str:
        return str(self.client.make_ini_letter().content)

    def download(self, order: OrderParams) -> Download | None:
        raw = getattr(self.client, "download_raw", None)
        if raw is None:
            raise ConnectorError(f"sources.{self.name}: this ebicsclient version offers no raw "
                                 "download; use backend = 'builtin'")
        result = raw(service_name=order.service_name, scope=order.scope,
                     msg_name=order.msg_name, msg_version=order.msg_version)
        if result is None:
            return None
        transaction_id, data = result
        return Download(str(transaction_id), order, bytes(data))

    def receipt(self, transaction_id: str, ok: bool = True) -> None:
        confirm = getattr(self.client, "confirm", None)
        if confirm is not None:
            confirm(transaction_id, ok)
