"""Small readers for CAMT elements: namespace-agnostic paths, amounts, dates, codes.

Every CAMT version puts its elements in its own namespace (`...camt.053.001.08`), and some
banks use none at all. Paths here are written with local names ("NtryDtls/TxDtls") and
qualified with the namespace of the element they start from, so one reader serves all
versions while lxml still does the walking in C.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import lru_cache

from lxml import etree

from reconciler.errors import InputError, ParseError
from reconciler.money import money

Element = etree._Element


def namespace_of(element: Element) -> str:
    tag = element.tag
    if isinstance(tag, str) and tag.startswith("{"):
        return tag[1:tag.index("}")]
    return ""


def local_name(element: Element) -> str:
    tag = element.tag
    if not isinstance(tag, str):
        return ""  # comment or processing instruction
    return tag[tag.index("}") + 1:] if tag.startswith("{") else tag


@lru_cache(maxsize=2048)
def qualify(namespace: str, path: str) -> str:
    """'NtryDtls/TxDtls' -> '{ns}NtryDtls/{ns}TxDtls' (unchanged when there is no namespace)."""
    if not namespace:
        return path
    return "/".join(part if part in (".", "..") or part.startswith("{") else
                    f"{{{namespace}}}{part}" for part in path.split("/"))


class Reader:
    """Path lookups relative to elements of one namespace."""

    __slots__ = ("namespace",)

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace

    def find(self, element: Element, path: str) -> Element | None:
        return element.find(qualify(self.namespace, path))

    def findall(self, element: Element, path: str) -> list[Element]:
        return element.findall(qualify(self.namespace, path))

    def text(self, element: Element | None, path: str) -> str | None:
        """Stripped text at `path`, None when absent or empty."""
        if element is None:
            return None
        value = element.findtext(qualify(self.namespace, path))
        if value is None:
            return None
        value = value.strip()
        return value or None

    def first_text(self, element: Element | None, *paths: str) -> str | None:
        for path in paths:
            value = self.text(element, path)
            if value is not None:
                return value
        return None


def where(filename: str, path: str, element: Element | None = None) -> str:
    line = getattr(element, "sourceline", None)
    return f"{filename}: {path}" + (f" (line {line})" if line else "")


def parse_amount(element: Element, place: str) -> Decimal:
    """The decimal in an `Amt`-like element; a bad amount makes the file unusable."""
    text = (element.text or "").strip()
    if not text:
        raise ParseError("amount is empty", where=place)
    try:
        return money(text)
    except InputError as exc:
        raise ParseError(exc.message, where=place) from None


def signed(amount: Decimal, indicator: str | None) -> Decimal:
    """Debit/credit becomes a sign here: DBIT is money out. A missing indicator is a credit,
    which is how ISO 20022 reads a balance without CdtDbtInd (a zero or positive balance)."""
    return -amount if indicator == "DBIT" else amount


def parse_date(text: str | None) -> dt.date | None:
    """ISODate or ISODateTime (a date/time keeps its local date, the booking day)."""
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def parse_datetime(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    candidate = text.strip()
    if candidate.endswith("Z"):
        candidate = candidate[:-1] + "+00:00"
    try:
        return dt.datetime.fromisoformat(candidate)
    except ValueError:
        pass
    # Some banks write more than six fractional digits; keep the date and time of day.
    try:
        return dt.datetime.fromisoformat(candidate[:19])
    except ValueError:
        return None


def date_choice(reader: Reader, element: Element | None, path: str) -> tuple[dt.date | None, bool]:
    """A DateAndDateTimeChoice (`Dt` or `DtTm`). Returns (date, present-but-unreadable)."""
    if element is None:
        return None, False
    raw = reader.first_text(element, f"{path}/Dt", f"{path}/DtTm")
    value = parse_date(raw)
    return value, raw is not None and value is None
