"""Character encodings of bank files.

SWIFT MT940 is nominally ASCII, but banks write counterparty names in whatever their core
system uses: UTF-8 (sometimes with a byte-order mark), or Windows-1252 / Latin-1 from older
Western European systems. XML files say what they are in their own declaration, which lxml
honours; only an XML file with no declaration and bytes that are not UTF-8 needs our help.
"""

from __future__ import annotations

import codecs
import re

UTF8_BOM = codecs.BOM_UTF8
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)

# <?xml version="1.0" encoding="..."?>: only the prolog, which is ASCII by definition.
_XML_DECLARED_ENCODING = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode a text bank file. Returns (text, encoding used).

    UTF-8 first (a BOM is dropped), then Windows-1252, which is what "ANSI" means on the
    machines that write most of these files; Latin-1 last, because it decodes any byte and
    so never fails (cp1252 leaves five bytes undefined).
    """
    if data.startswith(UTF8_BOM):
        try:
            return data[len(UTF8_BOM):].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            data = data[len(UTF8_BOM):]
    if data.startswith(_UTF16_BOMS):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def declared_xml_encoding(head: bytes) -> str | None:
    """The encoding named in an XML declaration at the start of `head`, if any."""
    if head.startswith(UTF8_BOM):
        head = head[len(UTF8_BOM):]
    match = _XML_DECLARED_ENCODING.match(head.lstrip())
    return match.group(1).decode("ascii") if match else None


def is_utf16(head: bytes) -> bool:
    return head.startswith(_UTF16_BOMS)
