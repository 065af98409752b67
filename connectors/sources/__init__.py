"""Bank sources behind one interface: list new files, fetch their bytes, acknowledge them.

`open_source(name, settings)` builds the source a `[sources.NAME]` table describes.
"""

from __future__ import annotations

from connectors.sources.base import BankSource, RemoteFile, open_source, safe_name

__all__ = ["BankSource", "RemoteFile", "open_source", "safe_name"]
