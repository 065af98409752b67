"""Small readers for CAMT elements: namespace-agnostic paths, amounts, dates, codes.

Every CAMT version puts its elements in its own namespace (`...camt.053.001.08`), and some
banks use none at all. Paths here are local names ("NtryDtls/TxDtls"), so one reader serves
all versions.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

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


class Node:
    """An element with every descendant indexed by its local-name path ('RmtInf/Ustrd').

    One walk over the subtree replaces dozens of `find` calls per entry: lxml compiles each
    path on every call once its small path cache overflows, and an entry asks ~40 paths.
    Subtrees at a `stop` path are indexed as elements but not descended into (the TxDtls of
    an entry get their own Node).
    """

    __slots__ = ("element", "index")

    def __init__(self, element: Element, stop: frozenset[str] = frozenset(),
                 wanted: PathSet | None = None) -> None:
        self.element = element
        self.index: dict[str, list[Element]] = {}
        if wanted is None:
            _walk(element, "", self.index, stop)
        else:
            _walk_wanted(element, wanted.top, self.index, wanted)

    def find(self, path: str) -> Element | None:
        found = self.index.get(path)
        return found[0] if found else None

    def findall(self, path: str) -> list[Element]:
        return self.index.get(path, [])

    def text(self, path: str) -> str | None:
        found = self.index.get(path)  # never an empty list: paths are indexed when found
        if found is None:
            return None
        value = found[0].text
        return (value.strip() or None) if value else None

    def first_text(self, *paths: str) -> str | None:
        index = self.index  # written out, not through `text`: an entry asks ~200 of these
        for path in paths:
            found = index.get(path)
            if found is not None:
                value = found[0].text
                if value and (value := value.strip()):
                    return value
        return None

    def texts(self, path: str) -> list[str]:
        return [text for e in self.index.get(path, ()) if (text := (e.text or "").strip())]

    def nodes(self, path: str) -> list[Node]:
        return [Node(e) for e in self.findall(path)]


_LOCAL_NAMES: dict[object, str] = {}


def _local(tag: object) -> str:
    name = tag[tag.find("}") + 1:] if isinstance(tag, str) else ""  # "" for a comment
    if len(_LOCAL_NAMES) < 10_000:  # a hostile file with endless distinct tags stays bounded
        _LOCAL_NAMES[tag] = name
    return name


def _walk(element: Element, prefix: str, index: dict[str, list[Element]],
          stop: frozenset[str]) -> None:
    names = _LOCAL_NAMES
    for child in element:
        tag = child.tag
        name = names.get(tag) or _local(tag)
        if not name:
            continue  # comment or processing instruction
        path = prefix + name
        found = index.get(path)
        if found is None:
            index[path] = [child]
        else:
            found.append(child)
        if len(child) and path not in stop:
            _walk(child, path + "/", index, stop)


def _walk_wanted(element: Element, level: _Level, index: dict[str, list[Element]],
                 wanted: PathSet) -> None:
    """Like `_walk`, but only index the paths asked for and only enter subtrees that lead
    to one: postal addresses, party ids, tax records and the like are never visited.

    Each level of the walk remembers, per tag, what a child with that tag is (its path,
    whether it is wanted, the level below if it leads somewhere), so the path strings and
    set lookups are done once per tag and version rather than once per element."""
    steps = level.steps
    for child in element:
        tag = child.tag
        step = steps.get(tag)
        if step is None:
            step = level.learn(tag, wanted)
        path, is_wanted, deeper = step
        if is_wanted:
            found = index.get(path)
            if found is None:
                index[path] = [child]
            else:
                found.append(child)
        if deeper is not None:
            _walk_wanted(child, deeper, index, wanted)


class _Level:
    """One depth of a `PathSet` walk: the path prefix and what each child tag leads to."""

    __slots__ = ("prefix", "steps")

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.steps: dict[object, tuple[str, bool, _Level | None]] = {}

    def learn(self, tag: object, wanted: PathSet) -> tuple[str, bool, _Level | None]:
        path = self.prefix + (_LOCAL_NAMES.get(tag) or _local(tag))
        deeper = _Level(path + "/") if path in wanted.prefixes else None
        step = (path, path in wanted.paths, deeper)
        if len(self.steps) < 1000:  # endless distinct tags in a hostile file stay bounded
            self.steps[tag] = step
        return step


class PathSet:
    """The paths a reader looks up, and every path that leads to one."""

    __slots__ = ("paths", "prefixes", "top")

    def __init__(self, paths: set[str] | frozenset[str]) -> None:
        self.paths = frozenset(paths)
        self.prefixes = frozenset(p.rsplit("/", n)[0] for p in paths
                                  for n in range(1, p.count("/") + 1))
        self.top = _Level("")


def where(filename: str, path: str, element: Element | None = None) -> str:
    line = getattr(element, "sourceline", None)
    return f"{filename}: {path}" + (f" (line {line})" if line else "")


def parse_amount(element: Element, place: str) -> Decimal:
    """The decimal in an `Amt`-like element; a bad amount makes the file unusable."""
    return parse_decimal(element.text, place)


def parse_decimal(text: str | None, place: str) -> Decimal:
    value = (text or "").strip()
    if not value:
        raise ParseError("amount is empty", where=place)
    try:
        return money(value)
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


def date_choice(node: Node, path: str) -> tuple[dt.date | None, bool]:
    """A DateAndDateTimeChoice (`Dt` or `DtTm`). Returns (date, present-but-unreadable)."""
    raw = node.first_text(f"{path}/Dt", f"{path}/DtTm")
    value = parse_date(raw)
    return value, raw is not None and value is None
