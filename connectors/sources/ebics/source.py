"""EBICS as a bank source: each configured order is downloaded, unpacked into files, and
the bank receives the transaction's receipt once every file of it was imported."""

from __future__ import annotations

import io
import zipfile

from connectors.errors import ConnectorError
from connectors.sources.base import RemoteFile, safe_name
from connectors.sources.ebics.backend import Download, EbicsBackend, order_params
from reconciler.settings import SourceSettings

DEFAULT_ORDERS = ("camt.053", "camt.054")


def open_backend(name: str, settings: SourceSettings) -> EbicsBackend:
    missing = [f for f in ("url", "host_id", "partner_id", "user_id", "keys_dir")
               if not getattr(settings, f)]
    if missing:
        raise ConnectorError(f"sources.{name}: an EBICS source needs {', '.join(missing)}")
    passphrase = settings.passphrase.reveal() if settings.passphrase else None
    assert settings.url and settings.host_id and settings.partner_id and settings.user_id
    assert settings.keys_dir
    if settings.backend == "ebicsclient":
        from connectors.sources.ebics.thirdparty import EbicsclientBackend

        return EbicsclientBackend(name, settings, passphrase)
    if settings.backend != "builtin":
        raise ConnectorError(f"sources.{name}: unknown EBICS backend {settings.backend!r} "
                             "(builtin, ebicsclient)")
    from connectors.sources.ebics.client import EbicsClient

    return EbicsClient(f"sources.{name}", url=settings.url, host_id=settings.host_id,
                       partner_id=settings.partner_id, user_id=settings.user_id,
                       keys_dir=settings.keys_dir, passphrase=passphrase,
                       timeout=settings.timeout_seconds)


class EbicsSource:
    # A file the import rejected is kept in quarantine; the receipt is still sent, or the
    # bank would offer the same broken download again on every pull.
    acknowledge_rejected = True

    def __init__(self, name: str, settings: SourceSettings,
                 backend: EbicsBackend | None = None) -> None:
        self.name = name
        self.settings = settings
        self.stable_seconds = 0  # a download is complete by construction
        self.backend = backend or open_backend(name, settings)
        self.orders = [order_params(o) for o in settings.order_types or DEFAULT_ORDERS]
        self._data: dict[str, bytes] = {}
        self._open: dict[str, set[str]] = {}  # transaction id -> files not yet acknowledged

    def list_files(self) -> list[RemoteFile]:
        found: list[RemoteFile] = []
        for order in self.orders:
            download = self.backend.download(order)
            if download is None:
                continue
            files = unpack(download)
            self._open[download.transaction_id] = {n for n, _ in files}
            for name, data in files:
                self._data[name] = data
                found.append(RemoteFile(name=name, size=len(data), mtime=0, complete=True,
                                        handle=download.transaction_id))
            if not files:  # an empty container: confirm it so it is not offered again
                self.backend.receipt(download.transaction_id, ok=True)
        return found

    def fetch(self, file: RemoteFile) -> bytes:
        return self._data[file.name]

    def acknowledge(self, file: RemoteFile) -> None:
        waiting = self._open.get(file.handle)
        if waiting is None:
            return
        waiting.discard(file.name)
        if not waiting:
            self.backend.receipt(file.handle, ok=True)
            del self._open[file.handle]

    def close(self) -> None:
        # Transactions with a file that failed get no receipt: the bank offers them again.
        self._data.clear()
        self._open.clear()


# Limits on what a ZIP container from the bank may inflate to: a day's camt.053 for a busy
# account is a few MB and compresses about 10:1, so these are generous for real files and
# stop a zip bomb long before it fills memory.
MAX_MEMBER_BYTES = 256 * 1024 * 1024
MAX_RATIO = 200
_CHUNK = 1024 * 1024


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, prefix: str) -> bytes:
    """Read one member in chunks, refusing it once it grows past the limits (the sizes in
    the ZIP directory are the sender's claim; the running count is the truth)."""
    limit = min(MAX_MEMBER_BYTES, max(info.compress_size, 1) * MAX_RATIO)
    if info.file_size > limit:
        raise ConnectorError(f"EBICS {prefix}: {info.filename} would inflate to "
                             f"{info.file_size:,} bytes: refused as a zip bomb")
    chunks, total = [], 0
    with archive.open(info) as member:
        while chunk := member.read(_CHUNK):
            total += len(chunk)
            if total > limit:
                raise ConnectorError(f"EBICS {prefix}: {info.filename} inflates past "
                                     f"{limit:,} bytes: refused as a zip bomb")
            chunks.append(chunk)
    return b"".join(chunks)


def unpack(download: Download) -> list[tuple[str, bytes]]:
    """Name each file after the order and the transaction, so names never repeat."""
    prefix = f"{download.order.label}-{download.transaction_id}"
    data = download.data
    if data.startswith(b"PK\x03\x04"):
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile as exc:
            raise ConnectorError(f"EBICS {prefix}: broken ZIP container: {exc}") from None
        files = []
        for number, info in enumerate(archive.infolist(), start=1):
            if info.is_dir():
                continue
            inner = info.filename.replace("\\", "/").rsplit("/", 1)[-1]
            clean = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in inner)
            files.append((safe_name(f"{prefix}-{number:03d}-{clean}"[:200]),
                          _read_member(archive, info, prefix)))
        return files
    extension = "sta" if download.order.msg_name.lower().startswith("mt9") else "xml"
    return [(safe_name(f"{prefix}.{extension}"), data)]
