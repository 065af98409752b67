"""Format sniffing: which parser does a bank file need?

Looks only at the head of the file. XML goes to the CAMT reader, which settles the exact
message and version from the `Document` namespace; SWIFT text goes to the MT940 parser, as
MT940 (end-of-day statement) or MT942 (interim transaction report).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from parsers.encoding import UTF8_BOM, is_utf16
from reconciler.errors import ParseError

SNIFF_BYTES = 64 * 1024

_CAMT_MESSAGE = re.compile(r"camt\.(05[234])\.001\.(\d{2})")
_CAMT_ROOTS = {"BkToCstmrAcctRpt": "camt.052", "BkToCstmrStmt": "camt.053",
               "BkToCstmrDbtCdtNtfctn": "camt.054"}
_CAMT_ROOT = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?(BkToCstmr(?:AcctRpt|Stmt|DbtCdtNtfctn))\b")
# A SWIFT field tag at the start of a line or right after a block opener: ":20:", ":61:".
_MT_TAG = re.compile(r"(?:^|[\r\n{]|\{4:)\s*:(20|25|28C?|60[FM]|61|62[FM]|86|13D|34F|90[DC]):",
                     re.MULTILINE)
# The application header names the message type: {2:O940...} / {2:I942...}.
_MT_APP_HEADER = re.compile(r"\{2:[IO](94[02])")


# Archives are not bank files: a bank that zips its statements is unpacked by the connector
# that knows the bank (EBICS does, with size limits); reading one here would parse whatever
# text a stored member happens to contain, or inflate a bomb.
_ARCHIVE_SIGNATURES = ((b"PK\x03\x04", "zip"), (b"PK\x05\x06", "zip"), (b"\x1f\x8b", "gzip"),
                       (b"BZh", "bzip2"), (b"7z\xbc\xaf\x27\x1c", "7-zip"),
                       (b"Rar!", "rar"), (b"\xfd7zXZ", "xz"))


@dataclass(frozen=True, slots=True)
class Sniffed:
    family: str  # "camt" | "mt"
    format: str  # "camt.053.001.08", "camt.053" (version unknown yet), "mt940", "mt942"


def sniff(data: bytes, *, filename: str = "<input>") -> Sniffed:
    """Name the format of `data`, or raise ParseError when it is no bank file we read."""
    head_bytes = data[:SNIFF_BYTES]
    for signature, kind in _ARCHIVE_SIGNATURES:
        if head_bytes.startswith(signature):
            raise ParseError(f"not a bank statement but a {kind} archive: unpack it first",
                             where=f"{filename}: line 1")
    if is_utf16(head_bytes):
        head = head_bytes.decode("utf-16", errors="replace")
    else:
        if head_bytes.startswith(UTF8_BOM):
            head_bytes = head_bytes[len(UTF8_BOM):]
        head = head_bytes.decode("latin-1")
    stripped = head.lstrip()
    if not stripped:
        raise ParseError("empty file: no bank statement in it", where=f"{filename}: line 1")
    if stripped.startswith("<"):
        return Sniffed("camt", _camt_format(head))
    return Sniffed("mt", _mt_format(head, filename))


def _camt_format(head: str) -> str:
    root = _CAMT_ROOT.search(head)
    message = _CAMT_MESSAGE.search(head)
    if message:
        return f"camt.{message.group(1)}.001.{message.group(2)}"
    if root:
        return _CAMT_ROOTS[root.group(1)]
    # The reader decides: it names the place where no camt message was found.
    return "camt"


def _mt_format(head: str, filename: str) -> str:
    app = _MT_APP_HEADER.search(head)
    if app:
        return f"mt{app.group(1)}"
    tags = {m.group(1) for m in _MT_TAG.finditer(head)}
    if not tags:
        first = head.lstrip().splitlines()[0][:40] if head.strip() else ""
        raise ParseError(
            f"not a bank statement: neither CAMT XML nor SWIFT MT940/MT942 (starts with {first!r})",
            where=f"{filename}: line 1",
        )
    # MT942 carries a floor limit (:34F:) and a date/time indication (:13D:) and no booked
    # opening balance; MT940 always opens with :60F: or :60M:.
    if ("34F" in tags or "13D" in tags) and not tags & {"60F", "60M"}:
        return "mt942"
    return "mt940"
