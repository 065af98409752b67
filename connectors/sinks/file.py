"""File drop: one file per posting in a folder the ERP imports from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from connectors.errors import TransientConnectorError
from connectors.sinks.base import encode, file_name
from reconciler.atomic import replaced_atomically
from reconciler.settings import SinkSettings


class FileSink:
    def __init__(self, name: str, settings: SinkSettings, default_folder: Path) -> None:
        self.name = name
        self.format = settings.format
        self.folder = Path(settings.path) if settings.path else default_folder

    def deliver(self, payload: dict[str, Any]) -> str:
        target = self.folder / file_name(payload, self.format)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            # The ERP's importer never sees half a file.
            with replaced_atomically(target, "wb") as handle:
                handle.write(encode([payload], self.format, single=True))
        except OSError as exc:
            raise TransientConnectorError(f"sinks.{self.name}: cannot write {target}: "
                                          f"{exc.strerror}") from None
        return f"file {target}"

    def close(self) -> None:
        return None
